"""One device, four workloads of the paper at its settings: a paper-scale Cart-Pole PPO level (60
runs), one MazeGrid DQN level (20 runs), one MinAtar Breakout CNN DQN block and one Brax Hopper PPO
block, each trained as `ticketlab run` trains a block (the engine's trainer: stages compiled once,
advanced segment by segment) on JAX's default device. Prints per workload: env steps per second,
the networks' GFLOP/s and percent of the device's fp32 peak, peak device memory, and the
extrapolated wall time of the paper-scale experiment (every level of every seed and condition) on
this one device.

MazeGrid, MinAtar and Hopper train a fraction of a paper run's steps (--fraction; the rate is then
near its steady state: learning starts within the first 20,000 steps) and extrapolate linearly.
FLOPs are the networks' (dense and conv layers, 2 per multiply-add, a backward pass about twice a
forward); environment physics is not counted. `--tiny` runs every workload with two runs of a few
updates, as the test suite does on the CPU (tests/test_bench_device.py), so that it cannot rot.

    python bench/device.py [--tiny] [--fraction 0.05]

On one H200 the whole command is meant to finish in under 8 minutes, compilation included.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import time

import jax
from common import batch_inputs, timed

from ticketlab.agents.dqn import schedule
from ticketlab.imp import memory
from ticketlab.imp.program import build
from ticketlab.networks.torsos import image_hwc, torso_forward
from ticketlab.presets import preset

PEAK_FP32_TFLOPS = {
    "NVIDIA H200": 67.0,
    "NVIDIA H100 80GB HBM3": 67.0,
    "NVIDIA A100-SXM4-80GB": 19.5,
    "NVIDIA A100-SXM4-40GB": 19.5,
}
"""Dense fp32 (non-tensor-core) peak of known accelerators, TFLOP/s, from their vendors' data sheets."""
CPU_PEAK_PER_CORE_GFLOPS = 2 * 16 * 2 * 3.0
"""fp32 FLOP/s of one core of an AVX-512 server CPU: 2 FMA units x 16 lanes x 2 FLOP at about 3 GHz."""


@dataclasses.dataclass(frozen=True)
class Workload:
    label: str
    preset: str
    torso: str | None
    runs: int
    """Runs trained at once (a level: seeds x conditions; a block: the paper's block of seeds)."""
    fraction: float
    """Of a paper run's steps, trained and timed (the rest extrapolated)."""


WORKLOADS = (
    Workload("Cart-Pole PPO level", "cartpole-ppo", None, 60, 1.0),
    Workload("MazeGrid DQN level", "mazegrid-dqn", None, 20, 0.05),
    Workload("MinAtar CNN DQN block", "breakout-minatar-dqn", "cnn", 5, 0.01),
    Workload("Brax Hopper PPO block", "hopper-brax-ppo", None, 10, 0.05),
)


def dense_flops(sizes) -> int:
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def forward_flops(cfg, spec, hidden, out: int) -> float:
    """One forward pass of a network on one observation: its conv torso, then its dense layers."""
    if spec.image_layout:
        conv, flat = torso_forward(cfg.network.torso, image_hwc(spec.obs_shape, spec.image_layout))
    else:
        conv, flat = 0, math.prod(spec.obs_shape)
    return conv + dense_flops([flat, *hidden, out])


def ppo_flops(cfg, spec) -> float:
    """Per env step: actor and critic forward while acting, then each epoch's forward and backward."""
    out = spec.num_actions if spec.num_actions else 2 * spec.action_dim
    both = forward_flops(cfg, spec, cfg.network.actor_hidden, out) + forward_flops(
        cfg, spec, cfg.network.critic_hidden, 1
    )
    return both * (1 + 3 * cfg.ppo.epochs)


def dqn_flops(cfg, spec) -> float:
    """Per env step: the online network acting, and its share of the updates (online and target
    forward on the next observations for double Q, online forward and backward on the batch)."""
    q = forward_flops(cfg, spec, cfg.network.q_hidden, spec.num_actions)
    plan = schedule(cfg.dqn)
    return q * (1 + cfg.dqn.batch_size * (2 + 3) * plan.num_updates / cfg.dqn.total_steps)


FLOPS = {"ppo": ppo_flops, "dqn": dqn_flops}


def shortened(cfg, fraction: float, tiny: bool):
    """`cfg` with a fraction of its steps (a whole number of PPO updates or DQN iterations), and
    learning starting early enough to be timed (tiny: a few updates)."""
    section = getattr(cfg, cfg.algo)
    if cfg.algo == "ppo":
        batch = section.num_envs * section.rollout_len
        updates = 2 if tiny else max(1, round(section.total_steps * fraction / batch))
        return dataclasses.replace(
            cfg,
            ppo=dataclasses.replace(section, total_steps=updates * batch, eval_every=min(section.eval_every, updates)),
        )
    steps = 4 * section.batch_size * section.num_envs if tiny else int(section.total_steps * fraction)
    starts = min(section.learning_starts, steps // 4)
    return dataclasses.replace(
        cfg,
        dqn=dataclasses.replace(
            section,
            total_steps=steps,
            learning_starts=starts,
            buffer_size=min(section.buffer_size, steps),
            eps_anneal_steps=min(section.eps_anneal_steps, steps),
            eval_every=min(section.eval_every, 4 if tiny else 500),
            eval_episodes=min(section.eval_episodes, 2) if tiny else section.eval_episodes,
        ),
    )


def device_peak_gflops(device) -> float | None:
    if device.platform == "cpu":
        return CPU_PEAK_PER_CORE_GFLOPS * len(os.sched_getaffinity(0))
    peak = PEAK_FP32_TFLOPS.get(device.device_kind)
    return peak * 1e3 if peak else None


def peak_memory(device, exp, runs: int) -> tuple[float, str]:
    """(GiB, how): the device's own peak where it reports one, else the engine's estimate."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "peak_bytes_in_use" in stats:
        return stats["peak_bytes_in_use"] / 2**30, "measured"
    per_run = memory.run_bytes(exp)
    if per_run is not None:
        return memory.block_bytes(per_run, runs) / 2**30, "estimate"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "process RSS"


def paper_run_steps(paper) -> float:
    """Env steps of the whole paper-scale experiment: every level of every seed and condition."""
    runs = paper.seeds * (1 + len(paper.imp.conditions) * (paper.levels - 1))
    return runs * getattr(paper, paper.algo).total_steps


def measure(w: Workload, tiny: bool, fraction: float | None) -> dict:
    paper = preset(w.preset, "paper", w.torso)
    cfg = shortened(paper, fraction if fraction and w.fraction < 1 else w.fraction, tiny)
    runs = 2 if tiny else w.runs
    exp = build(dataclasses.replace(cfg, seeds=runs))
    keys, params, mask = batch_inputs(exp, runs)
    start = time.perf_counter()
    exp.trainer.warm(keys, params, mask)
    compile_s = time.perf_counter() - start
    _, seconds = timed(exp.trainer, keys, params, mask)
    exp.trainer.close()
    rate = runs * exp.agent.env_steps / seconds
    flops = FLOPS[cfg.algo](cfg, exp.spec) * rate
    device = jax.local_devices()[0]
    peak = device_peak_gflops(device)
    mem, how = peak_memory(device, exp, runs)
    return {
        "workload": w.label + (" (tiny)" if tiny else ""),
        "runs": runs,
        "steps": exp.agent.env_steps,
        "compile_s": compile_s,
        "seconds": seconds,
        "rate": rate,
        "gflops": flops / 1e9,
        "peak": 100 * flops / 1e9 / peak if peak else None,
        "memory": mem,
        "memory_how": how,
        "paper_h": paper_run_steps(paper) / rate / 3600,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="two runs of a few updates per workload (the tests' check)")
    ap.add_argument(
        "--fraction",
        type=float,
        default=None,
        help="of a paper run's steps for MazeGrid, MinAtar and Hopper (default: 0.05, 0.01, 0.05)",
    )
    ap.add_argument("--only", default=None, help="one workload's preset name")
    args = ap.parse_args(argv)
    device = jax.local_devices()[0]
    print(f"device: {device.device_kind} ({device.platform}), {jax.local_device_count()} local; jax {jax.__version__}")
    header = (
        f"{'workload':<30} {'runs':>4} {'steps/run':>10} {'compile s':>9} {'train s':>8} {'env steps/s':>12} "
        f"{'GFLOP/s':>8} {'% peak':>7} {'memory GiB':>16} {'paper scale':>12}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for w in WORKLOADS:
        if args.only and w.preset != args.only:
            continue
        r = measure(w, args.tiny, args.fraction)
        rows.append(r)
        peak = f"{r['peak']:.2f}" if r["peak"] is not None else "n/a"
        print(
            f"{r['workload']:<30} {r['runs']:>4} {r['steps']:>10} {r['compile_s']:>9.1f} {r['seconds']:>8.2f} "
            f"{r['rate']:>12,.0f} {r['gflops']:>8.1f} {peak:>7} {r['memory']:>7.2f} ({r['memory_how'][:8]:>8}) "
            f"{r['paper_h']:>10.2f} h",
            flush=True,
        )
    print(
        "paper scale: the whole experiment (seeds x (1 + conditions x (levels - 1)) runs at the paper's steps) "
        "extrapolated from this rate on this one device"
    )
    return rows


if __name__ == "__main__":
    main()
