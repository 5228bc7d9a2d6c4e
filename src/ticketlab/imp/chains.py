"""Which blocks can train now.

A (condition, level) of a seed group needs the run its source names (`previous_run`: the chain's own
previous level, the dense level 0, or any other chain's level a registered source points to) and the
group's dense level 0; nothing else. So chains advance on their own: a worker never waits for a
level to finish everywhere. A (level, group) is finished, and its seed markers may be written, once
every chain of the group has passed that level; a level is finished once every group has. A seed
whose run failed (NaN or inf) stops there, and so does every chain that would derive from it.
"""

from __future__ import annotations

from ticketlab.core.config import ExperimentConfig
from ticketlab.imp.layout import Block, level_blocks
from ticketlab.pruning.conditions import DENSE, previous_run

Group = tuple[int, ...]


class Chains:
    """The progress of every chain of `groups`. `first_level[g]`: the first level group g has not
    finished (levels before it are on disk); `failed`: (seed, condition) chains that stopped at a
    finished level ((seed, "*"): its dense level 0)."""

    def __init__(
        self, cfg: ExperimentConfig, groups: list[Group], first_level: dict[Group, int], failed: set[tuple[int, str]]
    ):
        self.cfg, self.levels, self.groups = cfg, cfg.levels, list(groups)
        self.conditions = tuple(cfg.imp.conditions)
        self.failed = set(failed)
        self.done = {(g, c, lv) for g in self.groups for lv in range(first_level[g]) for c in self._at(lv)}
        """(group, condition, level) pieces trained (or on disk)."""
        self.submitted = set(self.done)
        self.marked = {g: first_level[g] - 1 for g in self.groups}

    def _at(self, level: int) -> tuple[str, ...]:
        return (DENSE,) if level == 0 else self.conditions

    def _needs(self, condition: str, level: int) -> tuple[int, str]:
        return previous_run(condition, level)

    def ready(self) -> list[Block]:
        """Every block whose needs are trained and that was not handed out yet (a chain whose seeds
        have all failed passes its levels at once)."""
        out = []
        for g in self.groups:
            for level in range(self.levels):
                for condition in self._at(level):
                    if (g, condition, level) in self.submitted:
                        continue
                    if level > 0:
                        prev_level, prev = self._needs(condition, level)
                        if (g, DENSE, 0) not in self.done or (g, prev, prev_level) not in self.done:
                            continue
                        self.failed |= {(s, condition) for s in g if (s, prev) in self.failed}
                    self.submitted.add((g, condition, level))
                    blocks = [b for b in level_blocks(self.cfg, level, [g], self.failed) if b.condition == condition]
                    if blocks:
                        out.extend(blocks)
                    else:
                        self.done.add((g, condition, level))  # every seed of this chain has failed
        return out

    def first_blocks(self) -> list[Block]:
        return self.ready()

    def finish(self, block: Block, failed_seeds: list[int]) -> list[Block]:
        """Record a trained block and the seeds whose run failed in it; return the blocks that
        became ready."""
        group = next(g for g in self.groups if block.jobs[0][0] in g)
        self.failed |= {(s, "*" if block.level == 0 else block.condition) for s in failed_seeds}
        self.done.add((group, block.condition, block.level))
        return self.ready()

    def newly_finished(self) -> list[tuple[int, Group]]:
        """(level, group) pieces that every chain of the group has now passed, in level order;
        each is returned once."""
        out = []
        for g in self.groups:
            while self.marked[g] + 1 < self.levels and all(
                (g, c, self.marked[g] + 1) in self.done for c in self._at(self.marked[g] + 1)
            ):
                self.marked[g] += 1
                out.append((self.marked[g], g))
        return out

    def level_finished(self, level: int) -> bool:
        return all(self.marked[g] >= level for g in self.groups)
