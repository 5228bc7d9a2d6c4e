"""Throughput of the IMP training program, side by side in one process, printed as a table.

Rows: one IMP level of all seeds x conditions in one vmapped call; the same jitted training run
one at a time; Stable-Baselines3 PPO with the same hyper-parameters (if installed:
`pip install -e .[bench]`); and the wall time of the demo (`ticketlab run cartpole-ppo`).
Compilation is excluded from the step rates and reported apart.

    python bench/bench_ppo.py [--seeds 15] [--single 4] [--sb3-steps 20000] [--no-demo]
"""
from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time

import jax
from common import bench_host, bench_single, bench_vmapped

from ticketlab.experiments import resolve_expert
from ticketlab.imp.driver import build
from ticketlab.presets import preset


def bench_sb3(cfg, steps: int):
    try:
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.env_util import make_vec_env
    except ImportError:
        return None
    p = cfg.ppo
    env = make_vec_env("CartPole-v1", n_envs=p.num_envs, seed=0)
    model = PPO(
        "MlpPolicy", env, n_steps=p.rollout_len, batch_size=p.num_envs * p.rollout_len // p.minibatches,
        n_epochs=p.epochs, learning_rate=p.lr, gamma=p.gamma, gae_lambda=p.gae_lambda, clip_range=p.clip_eps,
        ent_coef=p.entropy_coef, vf_coef=p.value_coef, max_grad_norm=p.max_grad_norm, device="cpu", seed=0,
        policy_kwargs=dict(net_arch=dict(pi=list(cfg.network.actor_hidden), vf=list(cfg.network.critic_hidden)),
                           activation_fn=torch.nn.Tanh),
    )
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return steps, time.perf_counter() - start


def bench_bc(seeds: int, single: int, out: str):
    """Behavioural cloning rows: the cartpole-bc student level, vmapped and one at a time. The
    expert is trained once into `out` (not timed)."""
    cfg = dataclasses.replace(preset("cartpole-bc", "paper"), out=out)
    exp = build(cfg, resolve_expert(cfg))  # trains and caches the expert
    runs = seeds * len(cfg.imp.conditions)
    return cfg, bench_vmapped(cfg, runs, exp), bench_single(cfg, single, exp), runs


def bench_demo():
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ticketlab.cli", "run", "cartpole-ppo", "--out", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=15, help="seeds; runs per level = seeds x 4 conditions")
    ap.add_argument("--single", type=int, default=4, help="runs timed one at a time")
    ap.add_argument("--sb3-steps", type=int, default=20_000)
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--host-runs", type=int, default=4, help="runs of the host-path row (Gymnasium CartPole-v1)")
    ap.add_argument("--host-steps", type=int, default=8_192, help="env steps per run of the host-path row")
    args = ap.parse_args()
    cfg = preset("cartpole-ppo", "paper")
    runs = args.seeds * len(cfg.imp.conditions)

    rows = []
    steps, sec, comp, ret = bench_vmapped(cfg, runs)
    rows.append((f"ticketlab, one level vmapped ({runs} runs)", steps, sec, comp, ret))
    steps, sec, comp, ret = bench_single(cfg, args.single)
    rows.append((f"ticketlab, same program one run at a time ({args.single} runs)", steps, sec, comp, ret))
    host_cfg = dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, name="gymnasium:CartPole-v1"),
                                   ppo=dataclasses.replace(cfg.ppo, total_steps=args.host_steps))
    steps, sec, comp, ret = bench_host(host_cfg, args.host_runs)
    rows.append((f"ticketlab host path, Gymnasium CartPole-v1 ({args.host_runs} runs)", steps, sec, comp, ret))
    with tempfile.TemporaryDirectory() as tmp:
        bc_cfg, bc_v, bc_s, bc_runs = bench_bc(args.seeds, args.single, tmp)
    sb3 = bench_sb3(cfg, args.sb3_steps)
    if sb3:
        rows.append(("Stable-Baselines3 PPO, same hyper-parameters (1 run)", sb3[0], sb3[1], None, None))
    base = rows[-1][1] / rows[-1][2] if sb3 else None

    print(f"\nCart-Pole PPO {cfg.network.actor_hidden} actor+critic, {cfg.ppo.num_envs} envs, {cfg.ppo.total_steps:,} steps per run; "
          f"jax {jax.__version__} on {jax.devices()[0].platform}\n")
    print(f"| {'program':58s} | {'env steps':>11s} | {'seconds':>8s} | {'steps/s':>10s} | {'x SB3':>7s} | {'compile s':>9s} | {'mean best return':>16s} |")
    print(f"|{'-' * 60}|{'-' * 13}|{'-' * 10}|{'-' * 12}|{'-' * 9}|{'-' * 11}|{'-' * 18}|")
    for name, steps, sec, comp, ret in rows:
        rate = steps / sec
        ratio = f"{rate / base:.1f}" if base else "-"
        print(f"| {name:58s} | {steps:11,d} | {sec:8.1f} | {rate:10,.0f} | {ratio:>7s} | "
              f"{'' if comp is None else f'{comp:.1f}':>9s} | {'' if ret is None else f'{ret:.1f}':>16s} |")
    v, s, h = (rows[i][1] / rows[i][2] for i in range(3))
    print(f"\nvmapped / one-at-a-time steps per second: {v / s:.2f}x")
    print(f"host path / compiled path (vmapped) steps per second: {h / v:.3f} ({h / s:.3f} of one run at a time; "
          f"the host row trains {args.host_steps:,} steps per run, so it evaluates more often per step)")
    paper_steps = 15 * cfg.ppo.total_steps * (1 + 4 * 19)
    print(f"paper scale ({paper_steps / 1e6:.1f} M env steps) at the vmapped rate: {paper_steps / v / 60:.1f} min + compilation")
    print(f"\nBehavioural cloning, cartpole-bc: student {bc_cfg.student.hidden}, {bc_cfg.bc.total_steps:,} expert transitions x "
          f"{bc_cfg.bc.epochs} epochs per run, greedy evaluation every {bc_cfg.bc.eval_every} gradient steps\n")
    print(f"| {'program':58s} | {'runs':>5s} | {'seconds':>8s} | {'s per run':>9s} | {'compile s':>9s} | {'mean best return':>16s} |")
    print(f"|{'-' * 60}|{'-' * 7}|{'-' * 10}|{'-' * 11}|{'-' * 11}|{'-' * 18}|")
    for name, (steps, sec, comp, ret), n in ((f"ticketlab BC, one level vmapped ({bc_runs} runs)", bc_v, bc_runs),
                                             (f"ticketlab BC, one run at a time ({args.single} runs)", bc_s, args.single)):
        print(f"| {name:58s} | {n:5d} | {sec:8.1f} | {sec / n:9.3f} | {comp:9.1f} | {ret:16.1f} |")
    print(f"\nBC vmapped / one-at-a-time runs per second: {(bc_runs / bc_v[1]) / (args.single / bc_s[1]):.2f}x")
    if not args.no_demo:
        print(f"demo wall time (ticketlab run cartpole-ppo, 4 seeds x 10 levels, incl. compilation): {bench_demo():.0f} s")


if __name__ == "__main__":
    main()
