"""Which blocks can train now.

A chain (condition, seed group) needs only its own previous level, and level 1 only the group's
dense level 0, so chains advance on their own: a worker never waits for a level to finish
everywhere. A (level, group) is finished, and its seed markers may be written, once every chain of
the group has passed that level; a level is finished once every group has.
"""
from __future__ import annotations

from ticketlab.core.config import ExperimentConfig
from ticketlab.imp.layout import Block, level_blocks

Group = tuple[int, ...]


class Chains:
    """The progress of every chain of `groups`. `first_level[g]`: the first level group g has not
    finished (levels before it are on disk); `failed`: (seed, condition) chains that stopped at a
    finished level ((seed, "*"): its dense level 0)."""

    def __init__(self, cfg: ExperimentConfig, groups: list[Group], first_level: dict[Group, int],
                 failed: set[tuple[int, str]]):
        self.cfg, self.levels, self.groups = cfg, cfg.levels, list(groups)
        self.conditions = tuple(cfg.imp.conditions)
        self.failed = set(failed)
        self.passed = {(g, c): first_level[g] - 1 for g in self.groups for c in self.conditions}
        """The last level each chain has finished (the last level of all: it needs nothing more)."""
        self.marked = {g: first_level[g] - 1 for g in self.groups}

    def first_blocks(self) -> list[Block]:
        out = []
        for g in self.groups:
            level = self.marked[g] + 1
            if level < self.levels:
                out.extend(self._blocks_at(g, level, self.conditions))
        return out

    def _blocks_at(self, group: Group, level: int, conditions) -> list[Block]:
        blocks = [b for b in level_blocks(self.cfg, level, [group], self.failed)
                  if level == 0 or b.condition in conditions]
        if level > 0:
            for c in set(conditions) - {b.condition for b in blocks}:
                self.passed[(group, c)] = self.levels - 1  # every seed of this chain has failed
        return blocks

    def finish(self, block: Block, failed_seeds: list[int]) -> list[Block]:
        """Record a trained block and the seeds whose run failed in it; return the blocks that
        became ready."""
        group = next(g for g in self.groups if block.jobs[0][0] in g)
        nxt = block.level + 1
        if block.level == 0:
            self.failed |= {(s, "*") for s in failed_seeds}
            for c in self.conditions:
                self.passed[(group, c)] = max(self.passed[(group, c)], 0)
            return self._blocks_at(group, nxt, self.conditions) if nxt < self.levels else []
        self.failed |= {(s, block.condition) for s in failed_seeds}
        self.passed[(group, block.condition)] = max(self.passed[(group, block.condition)], block.level)
        return self._blocks_at(group, nxt, (block.condition,)) if nxt < self.levels else []

    def newly_finished(self) -> list[tuple[int, Group]]:
        """(level, group) pieces that every chain of the group has now passed, in level order;
        each is returned once."""
        out = []
        for g in self.groups:
            while self.marked[g] + 1 < self.levels and \
                    min(self.passed[(g, c)] for c in self.conditions) >= self.marked[g] + 1:
                self.marked[g] += 1
                out.append((self.marked[g], g))
        return out

    def level_finished(self, level: int) -> bool:
        return all(self.marked[g] >= level for g in self.groups)
