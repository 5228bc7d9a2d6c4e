"""The block layout: which runs of a level train together in one compiled call.

A vmapped call's numbers depend on which runs share it (XLA vectorizes across the batch), so the
layout is a function of the config alone, never of how many workers or cores run it: the same
config gives the same bits on 1 core, 16 cores or a cluster.

Seeds are cut into consecutive groups of `block_seeds` (0: all seeds). Level 0 has one block per
group (its dense runs); every later level one block per (condition, group), since a chain's next
level derives only from the same condition and seed. Every block is padded to the group size by
repeating its last run (padding is trained and thrown away), so one compiled program serves every
block of every level.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketlab.core.config import ExperimentConfig
from ticketlab.core.errors import ConfigError
from ticketlab.pruning.conditions import DENSE


@dataclass(frozen=True)
class Block:
    level: int
    condition: str
    jobs: tuple[tuple[int, str], ...]
    """The (seed, condition) runs whose results are kept, in seed order."""
    size: int
    """Runs in the compiled call: `jobs` padded by repeating the last one."""

    @property
    def padded_jobs(self) -> tuple[tuple[int, str], ...]:
        return self.jobs + (self.jobs[-1],) * (self.size - len(self.jobs))

    def describe(self) -> str:
        seeds = [s for s, _ in self.jobs]
        return f"level {self.level} {self.condition} seeds {seeds[0]}-{seeds[-1]}"


def group_size(cfg: ExperimentConfig) -> int:
    return cfg.block_seeds or cfg.seeds


def seed_groups(cfg: ExperimentConfig) -> list[tuple[int, ...]]:
    size = group_size(cfg)
    return [tuple(range(lo, min(lo + size, cfg.seeds))) for lo in range(0, cfg.seeds, size)]


def whole_groups(cfg: ExperimentConfig, seeds: list[int]) -> list[tuple[int, ...]]:
    """The groups `seeds` consists of; a ConfigError unless it is a union of whole groups (a part
    of a group cannot be trained without the rest of its block)."""
    chosen = set(seeds)
    groups = [g for g in seed_groups(cfg) if chosen & set(g)]
    partial = [g for g in groups if not set(g) <= chosen]
    if partial:
        g = partial[0]
        raise ConfigError(
            "seeds",
            f"seeds {sorted(chosen & set(g))} are part of the block of seeds {g[0]}-{g[-1]} "
            f"(block-seeds {group_size(cfg)}); run whole blocks",
        )
    return groups


def level_blocks(
    cfg: ExperimentConfig, level: int, groups: list[tuple[int, ...]], failed: set[tuple[int, str]]
) -> list[Block]:
    """The blocks of `level` for `groups`, leaving out chains that failed earlier (`failed` holds
    (seed, condition), or (seed, "*") when the seed's dense level 0 failed)."""
    conditions = (DENSE,) if level == 0 else tuple(cfg.imp.conditions)
    blocks = []
    for condition in conditions:
        for group in groups:
            jobs = tuple((s, condition) for s in group if (s, condition) not in failed and (s, "*") not in failed)
            if jobs:
                blocks.append(Block(level, condition, jobs, group_size(cfg)))
    return blocks


def blocks_per_level(cfg: ExperimentConfig) -> int:
    """The most blocks a level has: how many workers can be busy at once."""
    return len(seed_groups(cfg)) * max(1, len(cfg.imp.conditions))
