"""Every path of the results store, one small function per kind of file.

runs/<name>-<hash>/
  config.json                          the full config (and provenance)
  results.csv                          one row per (seed, condition, level)
  levels/level_03/seed_1/mask_weights/{mask,start,best}.safetensors, metrics.json
  levels/level_03/seed_1/complete.json  written last: this seed's level is finished (checksums)
  locks/seed_1.lock                    held while a process writes seed 1
  events.jsonl                         corrupt files recomputed, failed chains and tasks, checkpoints resumed
  checkpoints/level_03-mask_weights-seeds_0-3/{checkpoint.json,state-*.safetensors}
                                       a block's training state mid-level (deleted when the block is done)
  levels/level_00/seed_1/dense/...     level 0 is dense and shared by all conditions
  figures/*.png, *.pdf
"""

from __future__ import annotations

from pathlib import Path

from ticketlab.core.config import ExperimentConfig
from ticketlab.core.hashing import config_hash


def run_dir(cfg: ExperimentConfig) -> Path:
    return Path(cfg.out) / f"{cfg.name}-{config_hash(cfg)}"


def config_file(run: Path) -> Path:
    return Path(run) / "config.json"


def level_dir(run: Path, level: int) -> Path:
    return Path(run) / "levels" / f"level_{level:02d}"


def seed_marker(run: Path, level: int, seed: int) -> Path:
    """Written last for a (level, seed): every condition's files of it are finished; it holds
    their sha256 checksums."""
    return level_dir(run, level) / f"seed_{seed}" / "complete.json"


def seed_dir(run: Path, level: int, seed: int) -> Path:
    return level_dir(run, level) / f"seed_{seed}"


def quarantine_dir(run: Path, level: int, seed: int, stamp: str) -> Path:
    """Where a corrupted (level, seed) is moved before it is recomputed."""
    return level_dir(run, level) / f".corrupt-seed_{seed}-{stamp}"


def lock_file(run: Path, seed: int) -> Path:
    return Path(run) / "locks" / f"seed_{seed}.lock"


def events_file(run: Path) -> Path:
    """Append-only log of what happened to a run that a reader should know: corrupt files found
    and recomputed, failed chains, failed tasks."""
    return Path(run) / "events.jsonl"


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


def checkpoints_dir(run: Path) -> Path:
    return Path(run) / "checkpoints"


def block_checkpoint_dir(run: Path, level: int, condition: str, seeds: list[int]) -> Path:
    """A block's mid-level checkpoint (imp/checkpoints.py)."""
    return checkpoints_dir(run) / f"level_{level:02d}-{condition}-seeds_{seeds[0]}-{seeds[-1]}"


def expert_file(run: Path) -> Path:
    """The distilled-from expert of an RL run dir under <out>/experts/."""
    return Path(run) / "expert.safetensors"
