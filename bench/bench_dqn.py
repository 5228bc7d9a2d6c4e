"""DQN at a preset's paper settings (default mazegrid-dqn; any DQN preset, e.g.
breakout-minatar-dqn with --torso minatar-cnn): one IMP level of every seed x condition in one
vmapped call against the same jitted program run one at a time, printed as a table, with replay
memory, a uniformly random policy's return, and the paper-scale wall times extrapolated from the
measured rate.

Each run is shortened to --steps env steps with learning from step 1,024 on, so that nearly every
iteration updates, as at paper scale (20,000 of 5,000,000 steps pass before learning there).

    python bench/bench_dqn.py [--preset mazegrid-dqn] [--torso T] [--seeds 5] [--steps 100000]
                              [--single 2] [--encoding object-map]
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import jax
import jax.numpy as jnp
from common import bench_blocks, bench_single, bench_vmapped

from ticketlab.agents.dqn import schedule
from ticketlab.agents.heads import epsilon_greedy_actor
from ticketlab.agents.replay import bytes_per_transition
from ticketlab.envs.gymnax_envs import evaluate_episodes
from ticketlab.envs.registry import env_spec
from ticketlab.imp.program import build
from ticketlab.networks.torsos import image_hwc, torso_forward
from ticketlab.presets import preset
from ticketlab.runtime.workers import worker_count

PEAK_PER_CORE_GFLOPS = 2 * 16 * 2 * 3.0
"""fp32 FLOP/s of one core of this machine's AMD EPYC: 2 FMA units x 16 lanes (AVX-512) x 2 FLOP,
at about 3 GHz."""


def spec_of(cfg):
    return env_spec(cfg.env)


def update_flops(cfg, spec) -> float:
    """FLOPs of one DQN update's conv and dense layers: forward of the online network on obs and
    next obs (double Q), the target network on next obs, and the backward pass (about twice a
    forward) of the online network on obs."""
    if spec.image_layout:
        forward, flat = torso_forward(cfg.network.torso, image_hwc(spec.obs_shape, spec.image_layout))
    else:
        forward, flat = 0, math.prod(spec.obs_shape)
    sizes = [flat] + list(cfg.network.q_hidden) + [spec.num_actions]
    forward += sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return forward * cfg.dqn.batch_size * (3 + 2)


def random_return(spec, episodes: int = 64) -> float:
    """Mean return of a uniformly random policy over `episodes` evaluation episodes."""
    act = epsilon_greedy_actor(lambda o: jnp.zeros(o.shape[:1] + (spec.num_actions,)), spec.num_actions, 1.0)
    return float(jax.jit(lambda k: evaluate_episodes(k, act, spec, episodes))(jax.random.PRNGKey(12345)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="mazegrid-dqn", help="a DQN preset, run at its paper settings")
    ap.add_argument("--torso", default=None, help="the torso variant of presets that have one (mlp, minatar-cnn)")
    ap.add_argument("--seeds", type=int, default=5, help="seeds; runs per level = seeds x 4 conditions")
    ap.add_argument("--steps", type=int, default=100_000, help="env steps per run")
    ap.add_argument("--single", type=int, default=2, help="runs timed one at a time")
    ap.add_argument("--encoding", default="object-map")
    ap.add_argument(
        "--workers", type=int, default=None, help="worker processes of the first row (default: one per core)"
    )
    args = ap.parse_args()
    paper = preset(args.preset, "paper", args.torso)
    cfg = dataclasses.replace(
        paper,
        env=dataclasses.replace(paper.env, encoding=args.encoding),
        dqn=dataclasses.replace(paper.dqn, total_steps=args.steps, learning_starts=1_024),
    )
    runs = args.seeds * len(cfg.imp.conditions)
    exp = build(cfg)
    workers = worker_count(args.workers, len(cfg.imp.conditions))
    rows = [
        (
            f"ticketlab run: {len(cfg.imp.conditions)} blocks of {args.seeds} on {workers} pinned workers",
            *bench_blocks(cfg, args.seeds, workers),
        ),
        (f"one level vmapped in one process ({runs} runs)", *bench_vmapped(cfg, runs, exp)),
        (f"same program one run at a time ({args.single} runs)", *bench_single(cfg, args.single, exp)),
    ]
    d = cfg.dqn
    sizes = schedule(d)
    spec = spec_of(cfg)
    encoding = f" ({args.encoding})" if cfg.env.name == "MazeGrid-v0" else ""
    print(
        f"\n{spec.id}{encoding} DQN, {cfg.network.torso} torso, Q-network {cfg.network.q_hidden} {cfg.network.activation}, "
        f"{d.num_envs} envs, sticky actions {spec.sticky_actions:g}, "
        f"batch {d.batch_size}, one update per {sizes.steps_per_iteration} env steps, {args.steps:,} steps per run; "
        f"jax {jax.__version__} on {jax.devices()[0].platform}\n"
    )
    print(
        f"| {'program':52s} | {'env steps':>11s} | {'seconds':>8s} | {'steps/s':>9s} | {'us per step':>11s} | {'compile s':>9s} | {'best return':>11s} |"
    )
    print(f"|{'-' * 54}|{'-' * 13}|{'-' * 10}|{'-' * 11}|{'-' * 13}|{'-' * 11}|{'-' * 13}|")
    for name, steps, sec, comp, ret in rows:
        print(
            f"| {name:52s} | {steps:11,d} | {sec:8.1f} | {steps / sec:9,.0f} | {1e6 * sec / steps:11.2f} | {comp:9.1f} | {ret:11.1f} |"
        )
    blocks, vmapped, single = (rows[i][2] / rows[i][1] for i in range(3))
    print(f"\nworkers / one process, steps per second: {vmapped / blocks:.2f}x")
    print(
        f"per-step cost, vmapped / looped: {vmapped / single:.2f} (the looped program costs {single / vmapped:.2f}x per step)"
    )
    flops = update_flops(cfg, spec) * runs * schedule(d).num_updates
    print(
        f"Q-network updates alone: {flops / 1e9:.0f} GFLOP (batch {d.batch_size}: online and target forward, double-Q "
        f"online forward, backward); {flops / rows[0][2] / 1e9:.0f} GFLOP/s on {workers} cores with every core busy, "
        f"{flops / rows[1][2] / 1e9:.0f} GFLOP/s in one process (peak fp32 of this CPU: about "
        f"{PEAK_PER_CORE_GFLOPS * workers:.0f} GFLOP/s for {workers} cores, {PEAK_PER_CORE_GFLOPS:.0f} per core: AVX-512, "
        "2 FMA units, ~3 GHz)"
    )
    per_level = runs * paper.dqn.total_steps
    whole = (paper.seeds + (paper.levels - 1) * runs) * paper.dqn.total_steps
    print(
        f"paper scale with every core busy: one level {per_level * blocks / 3600:.1f} h; the whole run "
        f"{whole * blocks / 3600:.0f} h"
    )
    print(
        f"paper scale at the one-process rate: one level ({runs} runs x {paper.dqn.total_steps / 1e6:g} M steps) "
        f"{per_level * vmapped / 3600:.1f} h; the whole run ({paper.seeds} dense + {paper.levels - 1} levels x {runs}) "
        f"{whole * vmapped / 3600:.0f} h"
    )
    per = bytes_per_transition(spec.raw_obs_shape, spec.env.observation_space(spec.params).dtype)
    print(
        f"replay memory: {per} bytes per transition x {d.buffer_size:,} x {runs} runs = "
        f"{per * d.buffer_size * runs / 2**30:.2f} GiB (linear in each factor)"
    )
    print(f"uniformly random policy: mean return {random_return(spec):.2f} over 64 episodes")


if __name__ == "__main__":
    main()
