"""Throughput of the IMP training program and its peers, side by side in one command, printed as a
table with each row's rate relative to the first.

Rows: one IMP level as `ticketlab run` trains it (one block per condition, in pinned worker
processes, one per core); the same level in one vmapped call in one process (`--workers 1`); the
same jitted training run one at a time; the host path (Gymnasium's Cart-Pole stepped in Python);
rejax's vmapped PPO and Stable-Baselines3's PPO with the same hyper-parameters (both if installed:
`pip install -e .[bench]`); then behavioural cloning, and the wall time of the demo
(`ticketlab run cartpole-ppo`). Compilation is excluded from the step rates and reported apart.

    python bench/bench_ppo.py [--preset cartpole-ppo|acrobot-ppo] [--steps N] [--seeds 15] [--single 4]
                              [--sb3-steps 20000] [--workers N] [--no-demo]
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
from common import bench_blocks, bench_host, bench_single, bench_vmapped

from ticketlab.experiments.experts import resolve_expert
from ticketlab.imp.program import build
from ticketlab.presets import preset
from ticketlab.runtime.workers import usable_cores, worker_count


def bench_sb3(cfg, steps: int):
    try:
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.env_util import make_vec_env
    except ImportError:
        return None
    p = cfg.ppo
    env = make_vec_env(cfg.env.name, n_envs=p.num_envs, seed=0)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=p.rollout_len,
        batch_size=p.num_envs * p.rollout_len // p.minibatches,
        n_epochs=p.epochs,
        learning_rate=p.lr,
        gamma=p.gamma,
        gae_lambda=p.gae_lambda,
        clip_range=p.clip_eps,
        ent_coef=p.entropy_coef,
        vf_coef=p.value_coef,
        max_grad_norm=p.max_grad_norm,
        device="cpu",
        seed=0,
        policy_kwargs=dict(
            net_arch=dict(pi=list(cfg.network.actor_hidden), vf=list(cfg.network.critic_hidden)),
            activation_fn=torch.nn.Tanh,
        ),
    )
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return steps, time.perf_counter() - start


def five_value_step(env):
    """gymnax 1.0's environment with the five-value `step` rejax 0.1.3 expects (obs, state, reward,
    done, info; done = terminated or truncated). Bench-only shim: rejax predates gymnax 1.0."""

    class FiveValueStep(type(env)):
        def step(self, key, state, action, params=None):
            obs, state, reward, terminated, truncated, info = super().step(key, state, action, params)
            return obs, state, reward, jnp.logical_or(terminated, truncated), info

    return FiveValueStep()


def bench_rejax(cfg, runs: int):
    """rejax's PPO with the preset's hyper-parameters, vmapped over `runs` seeds in one process,
    evaluating `eval_episodes` greedy episodes every `eval_every` updates as ticketlab does.
    (rejax clips each gradient element to max_grad_norm, where ticketlab clips the global norm.)"""
    try:
        import gymnax
        from rejax import PPO
        from rejax.evaluate import evaluate
    except ImportError:
        return None
    p = cfg.ppo
    env, env_params = gymnax.make(cfg.env.name)
    env = five_value_step(env)
    algo = PPO.create(
        env=env,
        env_params=env_params,
        num_envs=p.num_envs,
        num_steps=p.rollout_len,
        num_epochs=p.epochs,
        num_minibatches=p.minibatches,
        learning_rate=p.lr,
        gamma=p.gamma,
        gae_lambda=p.gae_lambda,
        clip_eps=p.clip_eps,
        vf_coef=p.value_coef,
        ent_coef=p.entropy_coef,
        max_grad_norm=p.max_grad_norm,
        total_timesteps=p.total_steps,
        eval_freq=p.eval_every * p.num_envs * p.rollout_len,
        skip_initial_evaluation=True,
        normalize_observations=False,
        agent_kwargs={"activation": cfg.network.activation, "hidden_layer_sizes": cfg.network.actor_hidden},
    )
    episodes = p.eval_episodes

    def eval_callback(algo, ts, rng):
        return evaluate(algo.make_act(ts), rng, env, env_params, episodes, env_params.max_steps_in_episode)

    algo = algo.replace(eval_callback=eval_callback)
    train = jax.jit(jax.vmap(algo.train))
    keys = jax.random.split(jax.random.PRNGKey(0), runs)
    start = time.perf_counter()
    compiled = train.lower(keys).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    _, (lengths, returns) = jax.block_until_ready(compiled(keys))
    seconds = time.perf_counter() - start
    batch, eval_freq = p.num_envs * p.rollout_len, p.eval_every * p.num_envs * p.rollout_len
    steps = (
        runs * -(-p.total_steps // eval_freq) * -(-eval_freq // batch) * batch
    )  # rejax rounds up to whole evaluations
    return steps, seconds, compile_s, float(returns.mean(axis=-1).max(axis=-1).mean())


def bench_bc(seeds: int, single: int, out: str):
    """Behavioural cloning rows: the cartpole-bc student level, vmapped and one at a time. The
    expert is trained once into `out` (not timed)."""
    cfg = dataclasses.replace(preset("cartpole-bc", "paper"), out=out)
    exp = build(cfg, resolve_expert(cfg))  # trains and caches the expert
    runs = seeds * len(cfg.imp.conditions)
    return cfg, bench_vmapped(cfg, runs, exp), bench_single(cfg, single, exp), runs


def bench_demo(name: str):
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ticketlab.cli", "run", name, "--out", tmp], check=True, stdout=subprocess.DEVNULL
        )
        return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="cartpole-ppo", choices=("cartpole-ppo", "acrobot-ppo"))
    ap.add_argument(
        "--steps",
        type=int,
        default=0,
        help="env steps per run (default: the preset's); the paper-scale projection always uses the preset's",
    )
    ap.add_argument("--seeds", type=int, default=15, help="seeds; runs per level = seeds x 4 conditions")
    ap.add_argument("--single", type=int, default=4, help="runs timed one at a time")
    ap.add_argument("--sb3-steps", type=int, default=20_000)
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--host-runs", type=int, default=4, help="runs of the host-path row (the Gymnasium environment)")
    ap.add_argument("--host-steps", type=int, default=8_192, help="env steps per run of the host-path row")
    ap.add_argument(
        "--workers", type=int, default=None, help="worker processes of the first row (default: one per core)"
    )
    args = ap.parse_args()
    paper = preset(args.preset, "paper")
    cfg = (
        paper
        if not args.steps
        else dataclasses.replace(paper, ppo=dataclasses.replace(paper.ppo, total_steps=args.steps))
    )
    runs = args.seeds * len(cfg.imp.conditions)

    rows = []
    workers = worker_count(args.workers, len(cfg.imp.conditions))
    steps, sec, comp, ret = bench_blocks(cfg, args.seeds, workers)
    rows.append(
        (
            f"ticketlab run: {len(cfg.imp.conditions)} blocks of {args.seeds} on {workers} pinned workers",
            steps,
            sec,
            comp,
            ret,
        )
    )
    steps, sec, comp, ret = bench_vmapped(cfg, runs)
    rows.append((f"ticketlab, one level in one process ({runs} runs, --workers 1)", steps, sec, comp, ret))
    steps, sec, comp, ret = bench_single(cfg, args.single)
    rows.append((f"ticketlab, same program one run at a time ({args.single} runs)", steps, sec, comp, ret))
    host_cfg = dataclasses.replace(
        cfg,
        env=dataclasses.replace(cfg.env, name=f"gymnasium:{cfg.env.name}"),
        ppo=dataclasses.replace(cfg.ppo, total_steps=args.host_steps),
    )
    steps, sec, comp, ret = bench_host(host_cfg, args.host_runs)
    rows.append((f"ticketlab host path, Gymnasium {cfg.env.name} ({args.host_runs} runs)", steps, sec, comp, ret))
    peer = bench_rejax(cfg, runs)
    if peer:
        rows.append((f"rejax 0.1.3 PPO, vmapped ({runs} runs, one process)*", *peer))
    bc = None
    if args.preset == "cartpole-ppo":
        with tempfile.TemporaryDirectory() as tmp:
            bc = bench_bc(args.seeds, args.single, tmp)
    sb3 = bench_sb3(cfg, args.sb3_steps)
    if sb3:
        rows.append(("Stable-Baselines3 PPO, same hyper-parameters (1 run)", sb3[0], sb3[1], None, None))
    base = rows[-1][1] / rows[-1][2] if sb3 else None
    ours = rows[0][1] / rows[0][2]

    print(
        f"\n{cfg.env.name} PPO {cfg.network.actor_hidden} actor+critic, {cfg.ppo.num_envs} envs, {cfg.ppo.total_steps:,} steps per run; "
        f"jax {jax.__version__} on {jax.devices()[0].platform}, {len(usable_cores())} usable cores\n"
    )
    print(
        f"| {'program':62s} | {'env steps':>11s} | {'seconds':>8s} | {'steps/s':>10s} | {'/ ours':>6s} | {'x SB3':>7s} | {'compile s':>9s} | {'mean best return':>16s} |"
    )
    print(f"|{'-' * 64}|{'-' * 13}|{'-' * 10}|{'-' * 12}|{'-' * 8}|{'-' * 9}|{'-' * 11}|{'-' * 18}|")
    for name, steps, sec, comp, ret in rows:
        rate = steps / sec
        ratio = f"{rate / base:.1f}" if base else "-"
        print(
            f"| {name:62s} | {steps:11,d} | {sec:8.1f} | {rate:10,.0f} | {rate / ours:6.2f} | {ratio:>7s} | "
            f"{'' if comp is None else f'{comp:.1f}':>9s} | {'' if ret is None else f'{ret:.1f}':>16s} |"
        )
    if peer:
        print(
            "\n* rejax 0.1.3 expects gymnax's five-value step; a bench-only shim (five_value_step) gives it one. It rounds "
            "training up to whole evaluation intervals and clips gradients per element (ticketlab: global norm)."
        )
    blocks, v, s1, h = (rows[i][1] / rows[i][2] for i in range(4))
    print(f"\nworkers / one process: {blocks / v:.2f}x; one process vmapped / one-at-a-time: {v / s1:.2f}x")
    if peer:
        print(f"ticketlab run / rejax vmapped, env steps per second: {blocks / (peer[0] / peer[1]):.2f}x")
    print(
        f"host path / compiled path (one process) steps per second: {h / v:.3f} (the host row trains {args.host_steps:,} "
        f"steps per run, so it evaluates more often per step)"
    )
    paper_steps = paper.ppo.total_steps * paper.seeds * (1 + len(paper.imp.conditions) * (paper.levels - 1))
    print(
        f"paper scale ({paper_steps / 1e6:.1f} M env steps) at the workers' rate: {paper_steps / blocks / 60:.1f} min + compilation; "
        f"in one process: {paper_steps / v / 60:.1f} min"
    )
    if bc:
        print_bc(*bc, args.single)
    if not args.no_demo:
        print(f"demo wall time (ticketlab run {args.preset}, incl. compilation): {bench_demo(args.preset):.0f} s")


def print_bc(bc_cfg, bc_v, bc_s, bc_runs, single):
    print(
        f"\nBehavioural cloning, cartpole-bc: student {bc_cfg.student.hidden}, {bc_cfg.bc.total_steps:,} expert transitions x "
        f"{bc_cfg.bc.epochs} epochs per run, greedy evaluation every {bc_cfg.bc.eval_every} gradient steps\n"
    )
    print(
        f"| {'program':58s} | {'runs':>5s} | {'seconds':>8s} | {'s per run':>9s} | {'compile s':>9s} | {'mean best return':>16s} |"
    )
    print(f"|{'-' * 60}|{'-' * 7}|{'-' * 10}|{'-' * 11}|{'-' * 11}|{'-' * 18}|")
    for name, (steps, sec, comp, ret), n in (
        (f"ticketlab BC, one level vmapped ({bc_runs} runs)", bc_v, bc_runs),
        (f"ticketlab BC, one run at a time ({single} runs)", bc_s, single),
    ):
        print(f"| {name:58s} | {n:5d} | {sec:8.1f} | {sec / n:9.3f} | {comp:9.1f} | {ret:16.1f} |")
    print(f"\nBC vmapped / one-at-a-time runs per second: {(bc_runs / bc_v[1]) / (single / bc_s[1]):.2f}x")


if __name__ == "__main__":
    main()
