"""Mid-level checkpoints: a block's whole training state between two segments, so that a block cut
off midway (a preempted node, a killed worker) continues where it was saved.

A block trains in `SEGMENTS` segments of whole steps (PPO updates, DQN and SAC iterations, BC
epochs; agents/loop.py). Any segmentation gives the same bits, and so does a carry saved and loaded
between two segments (tests/test_segments.py): the results never depend on wall time, on whether a
checkpoint was saved, or on where a block resumed. A checkpoint is the stage's carry (params,
optimizer moments, environment states, replay buffers and priorities, keys, step counters, the
best params so far and the evaluation curve) as one safetensors file, its leaves keyed by their
order, and `checkpoint.json` (written last) with the step, each leaf's shape and dtype, and the
file's sha256. Each save writes a new state file before the JSON names it, so a crash mid-save
leaves the previous checkpoint whole. A checkpoint that is truncated or does not match is moved
aside with an event and its block restarts from its level's start.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from safetensors.numpy import load_file, save_file

from ticketlab.store import files, paths
from ticketlab.store.completion import log_event, sha256

SEGMENTS = 32
"""Segments a block's training is cut into: a block may be saved at 31 points."""


class CorruptCheckpoint(ValueError):
    """A checkpoint that cannot be loaded as it is: why."""


def segments(steps: int) -> list[tuple[int, int]]:
    """(first step, step count) of each segment of a training of `steps` steps."""
    size = max(1, -(-steps // SEGMENTS))
    return [(first, min(size, steps - first)) for first in range(0, steps, size)]


def block_dir(run: Path, block) -> Path:
    return paths.block_checkpoint_dir(run, block.level, block.condition, [s for s, _ in block.jobs])


def _is_key(x) -> bool:
    return jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _describe(leaf) -> dict:
    data = jax.random.key_data(leaf) if _is_key(leaf) else leaf
    return {"shape": list(data.shape), "dtype": str(data.dtype), "key": _is_key(leaf)}


def save(run: Path, block, carry, step: int, steps: int) -> None:
    """Save `carry` after `step` of `steps` steps (atomic: the JSON that names the state is last)."""
    leaves = jax.tree_util.tree_leaves(carry)
    arrays = {
        f"{i:05d}": np.ascontiguousarray(jax.device_get(jax.random.key_data(x) if _is_key(x) else x))
        for i, x in enumerate(leaves)
    }
    root = block_dir(run, block)
    state = root / f"state-{step:08d}.safetensors"
    files.atomic_write(state, lambda tmp: save_file(arrays, tmp))
    files.save_json(
        root / "checkpoint.json",
        {
            "level": block.level,
            "condition": block.condition,
            "seeds": [s for s, _ in block.jobs],
            "step": step,
            "steps": steps,
            "file": state.name,
            "sha256": sha256(state),
            "leaves": [_describe(x) for x in leaves],
        },
    )
    for old in root.glob("state-*.safetensors"):
        if old != state:
            old.unlink(missing_ok=True)


def load(run: Path, block, template, steps: int):
    """(step, carry) of the block's checkpoint, its leaves in the structure of `template` (the
    block's first carry); None when there is none. CorruptCheckpoint when it cannot be loaded."""
    root = block_dir(run, block)
    if not (root / "checkpoint.json").exists():
        return None
    try:
        meta = files.load_json(root / "checkpoint.json")
        state = root / meta["file"]
        if not state.exists():
            raise CorruptCheckpoint(f"{state.name} is missing")
        if sha256(state) != meta["sha256"]:
            raise CorruptCheckpoint(f"{state.name}: checksum mismatch (truncated or corrupted)")
        leaves, treedef = jax.tree_util.tree_flatten(template)
        want = [_describe(x) for x in leaves]
        if meta["leaves"] != want or meta["steps"] != steps or not 0 < meta["step"] < steps:
            raise CorruptCheckpoint("it does not match this block's training state")
        arrays = load_file(str(state))
    except CorruptCheckpoint:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptCheckpoint(f"unreadable ({err.__class__.__name__}: {err})") from None
    restored = [
        jax.random.wrap_key_data(jnp.asarray(arrays[f"{i:05d}"]), impl=jax.random.key_impl(x))
        if _is_key(x)
        else jnp.asarray(arrays[f"{i:05d}"])
        for i, x in enumerate(leaves)
    ]
    return meta["step"], jax.tree_util.tree_unflatten(treedef, restored)


def quarantine(run: Path, block, reason: str) -> Path:
    """Move a block's unusable checkpoint aside, with an event; the block restarts."""
    root = block_dir(run, block)
    stamp = f".corrupt-{root.name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    target = next(root.with_name(f"{stamp}-{i}") for i in range(1000) if not root.with_name(f"{stamp}-{i}").exists())
    os.replace(root, target)
    log_event(
        run,
        "checkpoint_corrupt",
        level=block.level,
        condition=block.condition,
        seeds=[s for s, _ in block.jobs],
        reason=reason,
        moved_to=str(target),
    )
    return target


def discard(run: Path, block) -> None:
    """Delete a finished block's checkpoint."""
    shutil.rmtree(block_dir(run, block), ignore_errors=True)
