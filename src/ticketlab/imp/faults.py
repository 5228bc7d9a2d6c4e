"""Fault injection for the tests of failure handling, switched on by environment variables only.

TICKETLAB_FAULT_NAN="seed,condition,level": that run's start params become NaN, as if training
had diverged; the driver must stop that chain and keep every other run and level.
TICKETLAB_FAULT_FAIL_ONCE=<path>: a launched task fails if <path> does not exist yet (and
creates it), so a retry succeeds.
TICKETLAB_FAULT_KILL_WORKER="level,condition": a worker process that has written the first run of
that level and condition kills itself (SIGKILL), mid-block, as the out-of-memory killer would.
TICKETLAB_FAULT_KILL_AFTER_CHECKPOINT="level,condition,n": the process that saves the n-th
mid-level checkpoint of a block of that level and condition kills itself (SIGKILL) right after.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import jax
import jax.numpy as jnp


def inject_faults(jobs, level: int, starts):
    spec = os.environ.get("TICKETLAB_FAULT_NAN")
    if spec:
        seed, condition, at = spec.split(",")
        for i, (s, c) in enumerate(jobs):
            if s == int(seed) and c == condition and level == int(at):
                starts[i] = jax.tree_util.tree_map(lambda x: jnp.full_like(x, jnp.nan), starts[i])
    return jobs


def kill_worker_after_write(level: int, condition: str) -> None:
    spec = os.environ.get("TICKETLAB_FAULT_KILL_WORKER")
    if spec and multiprocessing.parent_process() is not None:
        at, at_condition = spec.split(",")
        if level == int(at) and condition == at_condition:
            os.kill(os.getpid(), signal.SIGKILL)


def fail_once() -> None:
    marker = os.environ.get("TICKETLAB_FAULT_FAIL_ONCE")
    if marker and not Path(marker).exists():
        Path(marker).touch()
        raise RuntimeError(f"injected failure (TICKETLAB_FAULT_FAIL_ONCE={marker}); a retry succeeds")


_CHECKPOINTS_SAVED: dict[tuple[int, str], int] = {}


def kill_after_checkpoint(level: int, condition: str) -> None:
    spec = os.environ.get("TICKETLAB_FAULT_KILL_AFTER_CHECKPOINT")
    if spec:
        at, at_condition, n = spec.split(",")
        if level == int(at) and condition == at_condition:
            _CHECKPOINTS_SAVED[level, condition] = _CHECKPOINTS_SAVED.get((level, condition), 0) + 1
            if _CHECKPOINTS_SAVED[level, condition] == int(n):
                os.kill(os.getpid(), signal.SIGKILL)
