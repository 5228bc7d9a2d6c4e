"""The device memory a block needs, estimated from its config before anything trains, and the
refusal of a block that cannot fit.

A training's state is known exactly without running it: `jax.eval_shape` of its `begin` stage gives
every array of its carry (params, optimizer moments, replay buffers and priorities, environment
states, the best params so far) and of what it derives (BC's expert data). A segment holds its
input stage and its output carry at once, and the trajectories its loops stack (a PPO rollout, a
DQN collection; the `scan` outputs of `advance`'s program, traced but not compiled). The estimate
is their sum, plus a quarter for temporaries and 16 MiB. Every part grows linearly with the runs of
a block (they are stacked over runs), so one run's estimate prices any block. Measured against XLA's
own memory analysis of the compiled segment on the CPU (tests/test_memory.py), it is within 0.5x and
3x; physics engines' temporaries (Brax's contacts) are the part it undercounts.
"""

from __future__ import annotations

import json
import os
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.agents.output import RunKeys
from ticketlab.core.config import to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.envs.backends import backend_of
from ticketlab.imp.layout import group_size

TEMPORARIES = 1.25
FIXED = 16 * 2**20
GIB = 2**30


def _bytes(tree) -> int:
    return sum(int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in jax.tree_util.tree_leaves(tree))


def stacked_outputs(jaxpr) -> int:
    """Bytes of the per-step outputs a program's loops stack (`scan`'s non-carry outputs); a nested
    loop counts once per iteration of its parent (its largest branch where there are several)."""
    total = 0
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "scan":
            total += _bytes([v.aval for v in eqn.outvars[eqn.params["num_carry"] :]])
        inner = [stacked_outputs(sub) for sub in _sub_jaxprs(eqn)]
        total += max(inner, default=0)
    return total


def _sub_jaxprs(eqn):
    for value in eqn.params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            sub = getattr(item, "jaxpr", None)
            if sub is not None:
                yield sub if hasattr(sub, "eqns") else sub.jaxpr


_RUN_BYTES: dict[str, int | None] = {}
"""`run_bytes` by config and expert, once per process."""


def run_bytes(exp) -> int | None:
    """One run's share of a block's device memory before temporaries (None: the agent trains as one
    function of its own, whose state the engine does not see)."""
    key = json.dumps([to_dict(exp.cfg), repr(exp.spec)], sort_keys=True, default=str)
    if key not in _RUN_BYTES:
        _RUN_BYTES[key] = _traced_run_bytes(exp)
    return _RUN_BYTES[key]


def abstract_block(exp, runs: int | None):
    """(keys, params, mask) of a block of `runs` runs as shapes and dtypes, nothing allocated
    (None: one run, unstacked)."""
    lead = () if runs is None else (runs,)
    key = jax.ShapeDtypeStruct(lead + (2,), jnp.uint32)
    init = exp.agent.init if runs is None else jax.vmap(exp.agent.init)
    params = jax.eval_shape(init, key)
    mask = jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, jnp.bool_), params)
    # (the keys' shapes stand for the keys: what eval_shape and lower take)
    return RunKeys(key, key), params, mask  # type: ignore[arg-type]


def _traced_run_bytes(exp) -> int | None:
    stages = exp.agent.stages
    if stages is None:
        return None
    backend = backend_of(exp.spec)
    envs = backend.make_envs(exp.spec, exp.agent.num_envs, exp.agent.eval_episodes, None if backend.per_run else 1)
    try:
        keys, params, mask = abstract_block(exp, None if backend.per_run else 1)  # (a block program of one run)
        stage = jax.eval_shape(partial(stages.begin, envs), keys, params, mask)
        advance = jax.make_jaxpr(lambda s, k, m: stages.advance(envs, s, k, m, 0, 1).carry)(stage, keys, mask)
        return _bytes(stage) + _bytes(stage.carry) + 2 * stacked_outputs(advance.jaxpr)
    finally:
        envs.close()


def block_bytes(per_run: int, runs: int) -> int:
    return int(runs * per_run * TEMPORARIES) + FIXED


def device_capacity(workers_per_device: int) -> tuple[int, str]:
    """(bytes one worker may use, where): an accelerator's memory limit shared by its workers, or on
    the CPU the memory this machine has available, shared by every worker."""
    device = jax.local_devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"]) // workers_per_device, f"{device.platform}:{device.id}"
    return host_available() // workers_per_device, "host memory"


def host_available() -> int:
    """MemAvailable of /proc/meminfo (the physical memory where it is missing)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(exp, workers_per_device: int) -> None:
    """A ConfigError naming the largest `block-seeds` that fits when the config's blocks cannot fit
    the memory each worker has."""
    per_run = run_bytes(exp)
    if per_run is None:
        return
    runs = group_size(exp.cfg)
    capacity, where = device_capacity(workers_per_device)
    need = block_bytes(per_run, runs)
    if need <= capacity:
        return
    fits = max(0, int((capacity - FIXED) / (per_run * TEMPORARIES)))
    share = f" ({workers_per_device} workers share it)" if workers_per_device > 1 else ""
    advice = (
        f"the largest --block-seeds that fits is {fits}"
        if fits >= 1
        else "not even one run fits; use a smaller config or a larger device"
    )
    raise ConfigError(
        "block-seeds",
        f"a block of {runs} runs needs about {need / GIB:.2f} GiB, {where} has "
        f"{capacity / GIB:.2f} GiB per worker{share}; {advice}",
    )
