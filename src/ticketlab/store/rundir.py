"""Creating a run directory, or checking that an existing one belongs to this config."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import jax

from ticketlab.core.config import ExperimentConfig, from_dict, to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.core.hashing import config_hash, hashed_fields
from ticketlab.store import files, paths

PACKAGES = ("ticketlab", "jax", "jaxlib", "flax", "optax", "distrax", "gymnax", "flashbax", "numpy")
ENVIRONMENT_PACKAGES = ("gymnasium", "ale-py", "brax", "mujoco", "pybullet", "minatar")
"""Recorded too where installed (the extras that step environments)."""


def provenance(argv: list[str] | None) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES + ENVIRONMENT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name in PACKAGES:
                versions[name] = None
    return {
        "versions": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "command": list(argv) if argv is not None else list(sys.argv),
    }


def check_out(out: str | Path) -> None:
    """`--out`: a directory, or a path whose nearest existing part is a writable directory (one
    line, before anything is written)."""
    path = Path(out)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError("out", f"{existing} is a file, not a directory; name a directory (it is created if missing)")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError("out", f"{existing} is not writable by this user; name a directory you can write")


def prepare_run_dir(run: Path, cfg: ExperimentConfig, argv: list[str] | None = None) -> None:
    """Write config.json for a new run; for an existing one, refuse a config that disagrees, or a
    store that another version of the engine wrote (core/hashing.py: ENGINE)."""
    cfg_file = paths.config_file(run)
    if cfg_file.exists():
        stored = load_run_config(run)
        if hashed_fields(stored) != hashed_fields(cfg):
            raise ConfigError(
                "run", f"{run} holds a different config (hash {config_hash(stored)}); use another --out or --name"
            )
        written = files.load_json(cfg_file).get("hash")
        if written != config_hash(cfg):
            raise ConfigError(
                "run",
                f"{run} was written by another version of ticketlab's engine (hash {written}, "
                f"this version's is {config_hash(cfg)}); its results stay readable; use another "
                "--out or --name to train",
            )
        meta = files.load_json(cfg_file)
        if cfg.levels > stored.levels:  # the run is being extended: record its new length
            meta["config"]["levels"] = cfg.levels
        if cfg.env.return_floor is not None:  # a floor given now: the reports normalize from it
            meta["config"]["env"]["return_floor"] = cfg.env.return_floor
        if meta != files.load_json(cfg_file):
            files.save_json(cfg_file, meta)
        return
    files.save_json(
        cfg_file,
        {
            "config": to_dict(cfg),
            "hash": config_hash(cfg),
            "hashed_fields": hashed_fields(cfg),
            "provenance": provenance(argv),
        },
    )


def load_run_config(run: Path) -> ExperimentConfig:
    cfg_file = paths.config_file(run)
    if not cfg_file.exists():
        raise ConfigError("run", f"{run} is not a ticketlab run directory (no config.json)")
    return from_dict(files.load_json(cfg_file)["config"])
