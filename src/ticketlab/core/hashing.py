"""Config hash -> run identity. Fields equal to their defaults stay out of the hash, so adding a
field with a default never renames existing runs; fields that do not change results stay out too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ticketlab.core.config import ExperimentConfig, to_dict

NOT_HASHED = ("name", "levels", "out", "env.return_floor")
"""Run name (already the directory prefix), level count (a run can be extended), output root and
the return floor (reporting only).
(block_seeds is hashed: which runs share a compiled call changes their numbers in the last bits.)"""


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config dict as one level of dotted keys (`init.input_scale`), tuples as lists."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out


def hashed_fields(cfg: ExperimentConfig) -> dict[str, Any]:
    """The fields that identify a run: those that differ from the defaults, minus NOT_HASHED."""
    defaults = flatten(to_dict(ExperimentConfig()))
    values = flatten(to_dict(cfg))
    return {k: v for k, v in sorted(values.items()) if k not in NOT_HASHED and defaults.get(k) != v}


ENGINE = 2
"""The engine's version, hashed with every config: raised when the same config trains to other bits,
so that a store of an older engine is never resumed (mixed) by this one. 2: training advances in
segments (imp/checkpoints.py), whose compiled loop differs from the one program of version 1 in the
last bits."""


def config_hash(cfg: ExperimentConfig) -> str:
    fields = {"engine": ENGINE, **hashed_fields(cfg)}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]
