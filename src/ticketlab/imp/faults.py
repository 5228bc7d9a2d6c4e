"""Fault injection for the tests of failure handling, switched on by environment variables only.

TICKETLAB_FAULT_NAN="seed,condition,level": that run's start params become NaN, as if training
had diverged; the driver must stop that chain and keep every other run and level.
TICKETLAB_FAULT_FAIL_ONCE=<path>: a launched task fails if <path> does not exist yet (and
creates it), so a retry succeeds.
"""
from __future__ import annotations

import os
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


def fail_once() -> None:
    marker = os.environ.get("TICKETLAB_FAULT_FAIL_ONCE")
    if marker and not Path(marker).exists():
        Path(marker).touch()
        raise RuntimeError(f"injected failure (TICKETLAB_FAULT_FAIL_ONCE={marker}); a retry succeeds")
