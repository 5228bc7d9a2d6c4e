"""Throughput of continuous control: PyBullet on the host and Brax inside the compiled program,
printed as a table with each row's rate relative to the first, then the paper-scale wall time
extrapolated from the measured rates (this machine, and N cluster cores).

Rows: one Bullet env stepped with the preset's jitted 64,64 policy; ten of them in one Gymnasium
`SyncVectorEnv` (the preset's 10 workers; the share of time spent in the policy call); one IMP
level of the preset's host PPO as `ticketlab run` trains it (one block per condition, the blocks in
pinned worker processes, one per core) and the same in one process (`--workers 1`); then, if
`brax` is installed, the jitted Brax PPO of `<task>-brax-ppo` per backend.

    python bench/bench_continuous.py [--task hopper] [--steps 25600] [--seeds 2] [--workers N]
                                     [--brax-backends spring,positional] [--cluster-cores 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
from common import bench_blocks, bench_host, bench_vmapped

from ticketlab.agents.ppo import PPO
from ticketlab.envs.host import HostVectorEnv
from ticketlab.envs.registry import env_spec
from ticketlab.presets import preset
from ticketlab.pruning.masks import apply_mask, ones_mask
from ticketlab.runtime.workers import usable_cores, worker_count


def bench_envs(cfg, num_envs: int, seconds: float = 5.0):
    """Env steps per second of `num_envs` Bullet copies acting with the preset's jitted actor, and
    the fraction of the time spent in the policy call."""
    spec = env_spec(cfg.env)
    ppo = PPO(cfg, spec)
    params = ppo.init(jax.random.PRNGKey(0))
    mask = ones_mask(params)
    act = jax.jit(lambda key, obs: ppo.head.to_env(ppo.act_masked(apply_mask(params, mask), None, key, obs)[0]))
    key = jax.random.PRNGKey(1)
    with HostVectorEnv(spec.host_id, num_envs, seed=0) as env:
        obs = env.reset()
        jax.block_until_ready(act(key, jnp.asarray(obs)))  # compile
        steps, policy_s, start = 0, 0.0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            key, k = jax.random.split(key)
            t = time.perf_counter()
            action = np.asarray(act(k, jnp.asarray(obs)))
            policy_s += time.perf_counter() - t
            obs = env.step(action)[0]
            steps += num_envs
        total = time.perf_counter() - start
    return steps / total, policy_s / total


def short(cfg, steps: int, seeds: int):
    p = cfg.ppo
    every = max(1, steps // (p.num_envs * p.rollout_len))
    return dataclasses.replace(cfg, seeds=seeds, ppo=dataclasses.replace(p, total_steps=steps, eval_every=every))


def paper_runs(cfg) -> int:
    paper = preset(cfg.name, "paper")
    return paper.seeds * (1 + len(paper.imp.conditions) * (paper.levels - 1)), paper.ppo.total_steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="hopper", choices=["hopper", "walker2d", "halfcheetah", "ant"])
    parser.add_argument("--steps", type=int, default=25_600, help="env steps per run in the PPO rows")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes of the level row (default: one per core)"
    )
    parser.add_argument("--brax-backends", default="spring,positional,generalized")
    parser.add_argument("--brax-steps", type=int, default=204_800)
    parser.add_argument("--cluster-cores", type=int, default=200)
    args = parser.parse_args()
    cfg = preset(f"{args.task}-bullet-ppo")
    workers = worker_count(args.workers, len(cfg.imp.conditions))
    rows = []

    rate, policy = bench_envs(cfg, 1)
    rows.append(("1 Bullet env + jitted policy", rate, f"policy call {100 * policy:.0f}% of the time"))
    rate, policy = bench_envs(cfg, cfg.ppo.num_envs)
    rows.append(
        (f"{cfg.ppo.num_envs} Bullet envs, SyncVectorEnv", rate, f"policy call {100 * policy:.0f}% of the time")
    )
    level = short(cfg, args.steps, args.seeds)
    steps, seconds, compile_s, ret = bench_blocks(level, args.seeds, workers)
    level_rate = steps / seconds
    rows.append(
        (
            f"host PPO, one level ({args.seeds} seeds x {len(level.imp.conditions)} conditions), {workers} workers",
            level_rate,
            f"compile {compile_s:.1f} s, mean best return {ret:.0f}",
        )
    )
    steps, seconds, compile_s, ret = bench_host(dataclasses.replace(level, seeds=args.seeds), args.seeds)
    rows.append(
        (
            f"host PPO, {args.seeds} runs in one process",
            steps / seconds,
            f"compile {compile_s:.1f} s, mean best return {ret:.0f}",
        )
    )

    brax_rates = {}
    try:
        import brax  # noqa: F401
    except ImportError:
        rows.append(("Brax PPO", float("nan"), "brax not installed: pip install -e .[brax]"))
    else:
        for backend in [b for b in args.brax_backends.split(",") if b]:
            bcfg = preset(f"{args.task}-brax-ppo")
            bcfg = dataclasses.replace(bcfg, env=dataclasses.replace(bcfg.env, name=f"brax:{args.task}:{backend}"))
            bcfg = short(bcfg, args.brax_steps, args.seeds)
            steps, seconds, compile_s, ret = bench_vmapped(bcfg, args.seeds)
            brax_rates[backend] = steps / seconds
            rows.append(
                (
                    f"Brax PPO ({backend}), {args.seeds} runs vmapped, 1 process",
                    steps / seconds,
                    f"compile {compile_s:.1f} s, mean best return {ret:.0f}",
                )
            )

    base = rows[0][1]
    print(
        f"\n{args.task}: env steps per second on {len(usable_cores())} cores ({jax.default_backend()}); "
        "ratio = rate / the first row's"
    )
    print(f"{'row':<62} {'steps/s':>10} {'ratio':>7}  notes")
    for name, rate, note in rows:
        print(f"{name:<62} {rate:>10,.0f} {rate / base:>7.2f}  {note}")
    runs, per_run = paper_runs(cfg)
    total = runs * per_run
    per_core = level_rate / workers
    print(f"\npaper scale ({cfg.name} --scale paper): {runs} runs x {per_run:,} steps = {total / 1e9:.2f} B env steps")
    print(f"  this machine, host path at {level_rate:,.0f} steps/s: {total / level_rate / 3600:,.0f} h")
    print(
        f"  {args.cluster_cores} cluster cores at {per_core:,.0f} steps/s each: "
        f"{total / (per_core * args.cluster_cores) / 3600:,.1f} h"
    )
    for backend, rate in brax_rates.items():
        print(
            f"  Brax {backend} (MuJoCo observations, not Bullet's) at {rate:,.0f} steps/s in one process: "
            f"{total / rate / 3600:,.1f} h"
        )


if __name__ == "__main__":
    main()
