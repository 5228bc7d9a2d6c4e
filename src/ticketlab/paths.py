"""Every path of the results store, one small function per kind of file.

runs/<name>-<hash>/
  config.json                          the full config (and provenance)
  results.csv                          one row per (seed, condition, level)
  levels/level_03/complete.json        written last: the level is finished
  levels/level_03/seed_1/mask_weights/{mask,start,best}.safetensors, metrics.json
  levels/level_00/seed_1/dense/...     level 0 is dense and shared by all conditions
  figures/*.png, *.pdf
"""
from __future__ import annotations

from pathlib import Path

from ticketlab.config import ExperimentConfig
from ticketlab.hashing import config_hash


def run_dir(cfg: ExperimentConfig) -> Path:
    return Path(cfg.out) / f"{cfg.name}-{config_hash(cfg)}"


def config_file(run: Path) -> Path:
    return Path(run) / "config.json"


def level_dir(run: Path, level: int) -> Path:
    return Path(run) / "levels" / f"level_{level:02d}"


def level_marker(run: Path, level: int) -> Path:
    return level_dir(run, level) / "complete.json"


def chain_dir(run: Path, level: int, seed: int, condition: str) -> Path:
    return level_dir(run, level) / f"seed_{seed}" / condition


def tree_file(run: Path, level: int, seed: int, condition: str, kind: str) -> Path:
    """kind: mask, start, best, or rewind (level 0 with late rewinding)."""
    return chain_dir(run, level, seed, condition) / f"{kind}.safetensors"


def metrics_file(run: Path, level: int, seed: int, condition: str) -> Path:
    return chain_dir(run, level, seed, condition) / "metrics.json"


def results_csv(run: Path) -> Path:
    return Path(run) / "results.csv"


def figures_dir(run: Path) -> Path:
    return Path(run) / "figures"


def expert_file(run: Path) -> Path:
    """The distilled-from expert of an RL run dir under <out>/experts/."""
    return Path(run) / "expert.safetensors"
