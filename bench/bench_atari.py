"""PPO on an ALE game at table 9's settings (default pong-atari-ppo): env steps per second of
the compiled program (rollouts through ale-py's XLA interface, 10 epochs of Nature-CNN updates,
evaluation games) for one block of vmapped runs and for one run at a time, the emulator and
preprocessing alone, and the paper-scale cost extrapolated from the measured rates: on this
machine, and on a Ray cluster of N such machines (blocks are independent, one seed each at paper
scale, so the wall time divides by the cores until every block of a level has one).

Each run is shortened to --updates PPO updates (640 env steps each) with one evaluation of
--eval-games games at the end; the first call of a shape compiles and runs, the second only
runs, and compilation is the difference.

    python bench/bench_atari.py [--preset pong-atari-ppo] [--updates 3] [--runs 2] [--workers N]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import jax.numpy as jnp
from common import bench_blocks, bench_host

from ticketlab.envs.atari import vector_env
from ticketlab.envs.registry import env_spec
from ticketlab.networks.torsos import image_hwc, torso_forward
from ticketlab.presets import preset
from ticketlab.runtime.workers import worker_count


def emulator_rate(spec, num_envs: int, steps: int = 200) -> float:
    """Env steps per second of uniformly random actions through the XLA interface in a jitted scan."""
    vec = vector_env(spec.env, spec.params, spec.sticky_actions, num_envs, training=True)

    def play(handle, key):
        handle, _ = vec.reset(handle, jnp.arange(num_envs, dtype=jnp.int32))

        def step(carry, k):
            handle, total = carry
            action = jax.random.randint(k, (num_envs,), 0, spec.num_actions).astype(jnp.int32)
            handle, (obs, reward, *_rest) = vec.step(handle, action)
            return (handle, total + reward.sum() + obs[:, -1, 0, 0].sum()), None

        (handle, total), _ = jax.lax.scan(step, (handle, jnp.zeros((), jnp.int32)), jax.random.split(key, steps))
        return handle, total

    play = jax.jit(play)
    jax.block_until_ready(play(vec.handle, jax.random.PRNGKey(0)))
    start = time.perf_counter()
    jax.block_until_ready(play(vec.handle, jax.random.PRNGKey(1)))
    return num_envs * steps / (time.perf_counter() - start)


def forward_flops(cfg, spec) -> float:
    """FLOPs of one Nature-CNN forward pass on one observation (conv and dense layers, 2 per MAC)."""
    flops, features = torso_forward(cfg.network.torso, image_hwc(spec.obs_shape, spec.image_layout))
    sizes = [features] + list(cfg.network.actor_hidden) + [spec.num_actions]
    return flops + sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def step_flops(cfg, spec) -> float:
    """FLOPs per env step: the actor acting, the critic in GAE, and every epoch's forward and
    backward (about twice a forward) of actor and critic."""
    return forward_flops(cfg, spec) * (2 + cfg.ppo.epochs * 2 * 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="pong-atari-ppo", help="an Atari PPO preset, run at its paper settings")
    ap.add_argument("--updates", type=int, default=3, help="PPO updates per run (640 env steps each)")
    ap.add_argument("--runs", type=int, default=2, help="runs vmapped in one block (one IMP level has 5 x 4)")
    ap.add_argument("--eval-games", type=int, default=2, help="games of the one evaluation at the end of a run")
    ap.add_argument(
        "--workers", type=int, default=None, help="worker processes of the first row (default: one per core)"
    )
    args = ap.parse_args()
    paper = preset(args.preset, "paper")
    batch = paper.ppo.num_envs * paper.ppo.rollout_len
    cfg = dataclasses.replace(
        paper,
        ppo=dataclasses.replace(
            paper.ppo, total_steps=args.updates * batch, eval_every=args.updates, eval_episodes=args.eval_games
        ),
    )
    spec = env_spec(cfg.env)
    workers = worker_count(args.workers, len(cfg.imp.conditions))
    rows = [
        (f"ticketlab run: 4 blocks of 1 run on {workers} pinned workers", *bench_blocks(cfg, 1, workers)),
        (f"one block of {args.runs} runs vmapped, one process", *bench_host(cfg, args.runs)),
        ("one run at a time, one process", *bench_host(cfg, 1)),
    ]
    p = cfg.ppo
    print(
        f"\n{spec.id} PPO, Nature-CNN actor and critic ({paper.network.actor_hidden[0]} dense), {p.num_envs} envs x "
        f"{p.rollout_len} steps per update, {p.epochs} epochs of {p.minibatches} minibatches, frames "
        f"{spec.obs_shape}, {args.updates} updates per run; jax {jax.__version__} on {jax.devices()[0].platform}\n"
    )
    print(f"| {'program':52s} | {'env steps':>9s} | {'seconds':>8s} | {'steps/s':>8s} | {'compile s':>9s} |")
    print(f"|{'-' * 54}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 11}|")
    for name, steps, sec, comp, _ in rows:
        print(f"| {name:52s} | {steps:9,d} | {sec:8.1f} | {steps / sec:8,.1f} | {comp:9.1f} |")
    emulator = emulator_rate(spec, p.num_envs)
    print(
        f"| {'emulator + preprocessing alone, random actions':52s} | {'':9s} | {'':8s} | {emulator:8,.0f} | {'':9s} |"
    )
    workers_rate, vmapped_rate, single_rate = (rows[i][1] / rows[i][2] for i in range(3))
    print(
        f"\nratios: workers / one run at a time {workers_rate / single_rate:.2f}x; vmapped block / one at a time "
        f"{vmapped_rate / single_rate:.2f}x; the program runs at {single_rate / emulator:.1%} of the emulator's rate"
    )
    flops = step_flops(cfg, spec)
    print(
        f"model FLOPs per env step: {flops / 1e9:.2f} GFLOP (forward {forward_flops(cfg, spec) / 1e6:.0f} MFLOP per "
        f"network); achieved {flops * workers_rate / 1e9:.0f} GFLOP/s with every core busy"
    )
    runs = paper.seeds * len(paper.imp.conditions)
    whole = (paper.seeds + (paper.levels - 1) * runs) * paper.ppo.total_steps
    print(
        f"paper scale ({paper.seeds} seeds x {len(paper.imp.conditions)} conditions x {paper.levels} levels, "
        f"{paper.ppo.total_steps / 1e6:g} M steps per run, {whole / 1e6:,.0f} M steps in all):"
    )
    print(
        f"  one run here, every core busy: {paper.ppo.total_steps / workers_rate * workers / 3600:.1f} h; "
        f"the whole experiment: {whole / workers_rate / 86400:.0f} days"
    )
    for nodes in (4, 16):
        cores = nodes * workers
        per_level = -(-runs // cores) * paper.ppo.total_steps / (workers_rate / workers)
        dense = -(-paper.seeds // cores) * paper.ppo.total_steps / (workers_rate / workers)
        print(
            f"  a Ray cluster of {nodes} such machines ({cores} cores, one block per core): "
            f"{(dense + (paper.levels - 1) * per_level) / 86400:.1f} days"
        )


if __name__ == "__main__":
    main()
