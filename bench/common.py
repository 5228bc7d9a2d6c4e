"""Timing helpers shared by the benchmarks: one IMP level vmapped, and the same jitted training
program one run at a time. Compilation is timed apart from the run."""

from __future__ import annotations

import json
import time
from functools import partial

import jax
import jax.numpy as jnp

from ticketlab.agents.output import RunKeys
from ticketlab.core.config import from_dict, to_dict
from ticketlab.envs.backends import BACKENDS
from ticketlab.imp.keys import DATA, INIT, TRAIN, run_key
from ticketlab.imp.program import build
from ticketlab.pruning.masks import ones_mask
from ticketlab.runtime.workers import WorkerPool


def timed(fn, *args):
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - start


def batch_inputs(exp, runs: int, first_seed: int = 0):
    """Keys, dense params and masks of `runs` level-0 runs (seeds first_seed .. + runs - 1)."""
    seeds = range(first_seed, first_seed + runs)
    keys = RunKeys(
        jnp.stack([run_key(i, "dense", 0, TRAIN) for i in seeds]),
        jnp.stack([run_key(i, "dense", 0, DATA) for i in seeds]),
    )
    params = jax.vmap(exp.agent.init)(jnp.stack([run_key(i, "dense", 0, INIT) for i in seeds]))
    return keys, params, ones_mask(params)


def bench_host(cfg, runs: int):
    """A program whose environments step a whole block (host, ALE): the first call compiles and
    runs, the second only runs; compilation is the difference."""
    exp = build(cfg)
    keys, params, mask = batch_inputs(exp, runs)
    _, first = timed(exp.trainer, keys, params, mask)
    out, seconds = timed(exp.trainer, keys, params, mask)
    return runs * exp.agent.env_steps, seconds, max(first - seconds, 0.0), float(out.best_return.mean())


def bench_vmapped(cfg, runs: int, exp=None):
    exp = exp or build(cfg)
    keys, params, mask = batch_inputs(exp, runs)
    t0 = time.perf_counter()
    exp.trainer.warm(keys, params, mask)  # compiles its stages (a segment of no steps)
    compile_s = time.perf_counter() - t0
    out, seconds = timed(exp.trainer, keys, params, mask)
    return runs * exp.agent.env_steps, seconds, compile_s, float(out.best_return.mean())


def bench_single(cfg, runs: int, exp=None):
    exp = exp or build(cfg)
    backend = BACKENDS.get(exp.spec.backend)
    envs = backend.make_envs(exp.spec, exp.agent.num_envs, exp.agent.eval_episodes, None)
    train = jax.jit(partial(exp.agent.train, envs))
    params = exp.agent.init(run_key(0, "dense", 0, INIT))
    mask = ones_mask(params)
    key = RunKeys(run_key(0, "dense", 0, TRAIN), run_key(0, "dense", 0, DATA))
    t0 = time.perf_counter()
    compiled = train.lower(key, params, mask).compile()
    compile_s = time.perf_counter() - t0
    total, returns = 0.0, []
    for i in range(runs):
        keys = RunKeys(run_key(i, "dense", 0, TRAIN), run_key(i, "dense", 0, DATA))
        out, seconds = timed(compiled, keys, exp.agent.init(run_key(i, "dense", 0, INIT)), mask)
        total += seconds
        returns.append(float(out.best_return))
    return runs * exp.agent.env_steps, total, compile_s, sum(returns) / len(returns)


_BUILT = {}


def _timed_block(args):
    """One block of dense runs in a worker process: (seconds, mean best return). The worker's
    first block compiles; later ones reuse the program."""
    config, first_seed, runs = args
    key = json.dumps(config, sort_keys=True)
    if key not in _BUILT:
        _BUILT[key] = build(from_dict(config))
    exp = _BUILT[key]
    keys, params, mask = batch_inputs(exp, runs, first_seed)
    out, seconds = timed(exp.trainer, keys, params, mask)
    return seconds, float(out.best_return.mean())


def bench_blocks(cfg, seeds: int, workers: int):
    """One IMP level of `seeds` x conditions as `ticketlab run` trains it: one block of `seeds` runs
    per condition (the default layout), the blocks in `workers` pinned worker processes with one
    XLA thread each. A first pass compiles in every worker; the second is timed, wall clock.
    Returns (env steps, seconds, compile seconds, mean best return)."""
    blocks = [(to_dict(cfg), c * seeds, seeds) for c in range(len(cfg.imp.conditions))]
    with WorkerPool(workers) as pool:
        start = time.perf_counter()
        pool.map(_timed_block, blocks[:workers])
        compile_s = time.perf_counter() - start  # (includes one block's training per worker)
        start = time.perf_counter()
        results = pool.map(_timed_block, blocks)
        seconds = time.perf_counter() - start
    runs = seeds * len(blocks)
    first = compile_s - max(r[0] for r in results[:workers])
    return runs * build(cfg).agent.env_steps, seconds, max(first, 0.0), sum(r[1] for r in results) / len(results)
