"""Compile time and speed of the training programs under the two CPU lowerings of Threefry, in one
process: JAX's rolled loop (its CPU default) and the unrolled rounds ticketlab installs on import
(`ticketlab.runtime.threefry_cpu`). Each row compiles one level's vmapped program of a preset, shortened,
under each lowering (caches cleared in between), runs it, and checks the two outputs are
bit-identical. Ratios are rolled / unrolled, so above 1 means the unrolled lowering is faster.

    python bench/bench_compile.py [--presets cartpole-ppo,acrobot-ppo,cartpole-dqn] [--runs 15] [--repeats 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import numpy as np
from common import batch_inputs, timed

from ticketlab.imp.program import build
from ticketlab.presets import preset
from ticketlab.runtime.threefry_cpu import use_rolled_threefry, use_unrolled_threefry

SHORT_STEPS = 20_000
"""Env steps per run of each timed program (its compile time does not depend on them)."""


def shortened(name: str):
    """The paper-scale preset with SHORT_STEPS env steps per run (PPO or DQN)."""
    cfg = preset(name, "paper")
    return dataclasses.replace(cfg, **{cfg.algo: dataclasses.replace(getattr(cfg, cfg.algo), total_steps=SHORT_STEPS)})


def compile_and_run(cfg, runs: int):
    """(compile seconds, run seconds, flat output) of one level's vmapped program, from cold caches."""
    jax.clear_caches()
    exp = build(cfg)
    keys, params, mask = batch_inputs(exp, runs)
    start = time.perf_counter()
    exp.trainer.warm(keys, params, mask)  # compiles its stages (a segment of no steps)
    compile_s = time.perf_counter() - start
    out, run_s = timed(exp.trainer, keys, params, mask)
    return compile_s, run_s, [np.asarray(x) for x in jax.tree_util.tree_leaves(out)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="cartpole-ppo,acrobot-ppo,cartpole-dqn")
    ap.add_argument("--runs", type=int, default=15, help="runs vmapped in one program (a block of ticketlab run)")
    ap.add_argument("--repeats", type=int, default=2, help="alternating measurements per lowering (the best is kept)")
    args = ap.parse_args()
    rows = []
    for name in args.presets.split(","):
        cfg = shortened(name)
        best = {"rolled": (np.inf, np.inf), "unrolled": (np.inf, np.inf)}
        outputs = {}
        for _ in range(args.repeats):
            for lowering, install in (("rolled", use_rolled_threefry), ("unrolled", use_unrolled_threefry)):
                install()
                c, r, outputs[lowering] = compile_and_run(cfg, args.runs)
                best[lowering] = (min(best[lowering][0], c), min(best[lowering][1], r))
        same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(outputs["rolled"], outputs["unrolled"]))
        rows.append((name, SHORT_STEPS, best, same))
    use_unrolled_threefry()

    print(
        f"\nThreefry lowering on the CPU: {args.runs} runs vmapped per program, best of {args.repeats}; "
        f"jax {jax.__version__}\n"
    )
    print(
        f"| {'preset':14s} | {'steps/run':>9s} | {'compile rolled':>14s} | {'compile unrolled':>16s} | {'ratio':>5s} | "
        f"{'run rolled':>10s} | {'run unrolled':>12s} | {'ratio':>5s} | bit-identical |"
    )
    print(f"|{'-' * 16}|{'-' * 11}|{'-' * 16}|{'-' * 18}|{'-' * 7}|{'-' * 12}|{'-' * 14}|{'-' * 7}|{'-' * 15}|")
    for name, steps, best, same in rows:
        (cr, rr), (cu, ru) = best["rolled"], best["unrolled"]
        print(
            f"| {name:14s} | {steps:9,d} | {cr:12.1f} s | {cu:14.1f} s | {cr / cu:5.2f} | {rr:8.2f} s | {ru:10.2f} s | "
            f"{rr / ru:5.2f} | {'yes' if same else 'NO':13s} |"
        )


if __name__ == "__main__":
    main()
