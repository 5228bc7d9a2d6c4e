"""The IMP level loop: level 0 trains dense, each later level derives every condition's
(mask, start) from that condition's previous level on disk, then trains the level's blocks (see
layout.py), each one vmapped, jit-compiled call, in this process or in worker processes pinned one
per core.

A (level, seed) is finished when its marker file exists; the marker is written once every block
of the seed's group is written. Finished pieces are skipped, so a killed run resumes from its last
finished level; a level that is partly written is computed again block by block, and since a
block's runs and inputs are a function of the config and the store alone, a resumed run computes
exactly what an uninterrupted one does, with any number of workers.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

from ticketlab import paths, store
from ticketlab.config import ExperimentConfig, to_dict
from ticketlab.errors import ConfigError
from ticketlab.imp.blocks import BlockTask, run_block, train_block
from ticketlab.imp.completion import mark_seed_complete, repair, seed_complete
from ticketlab.imp.experiment import Experiment, build
from ticketlab.imp.layout import Block, blocks_per_level, level_blocks, whole_groups
from ticketlab.imp.lock import seed_locks
from ticketlab.imp.results import append_results, write_results_csv
from ticketlab.imp.rundir import prepare_run_dir
from ticketlab.validate import validate
from ticketlab.workers import WorkerPool, worker_count

def failures_at(run: Path, seeds: list[int], level: int) -> set[tuple[int, str]]:
    """(seed, condition) chains that failed at `level` ("*": the dense level 0, every condition)."""
    out = set()
    for seed in seeds:
        for path in paths.seed_dir(run, level, seed).glob("*/metrics.json"):
            m = store.load_json(path)
            if m.get("status") == "failed":
                out.add((seed, m["condition"] if level > 0 else "*"))
    return out


class _Trainer:
    """Trains blocks: here, one after another (1 worker), or in a pool of pinned worker processes
    started on first use."""

    def __init__(self, exp: Experiment, run: Path, expert, workers: int):
        self.exp, self.run, self.expert, self.workers = exp, run, expert, workers
        self.pool: WorkerPool | None = None

    def train(self, blocks: list[Block]) -> None:
        if self.workers == 1:
            for block in blocks:
                train_block(self.exp, self.run, block)
            return
        if self.pool is None:
            self.pool = WorkerPool(self.workers)
        config = to_dict(self.exp.cfg)
        tasks = [BlockTask(config, str(self.run), b, self.expert) for b in blocks]
        self.pool.map(run_block, tasks, describe=lambda t: t.block.describe())

    def close(self, failed: bool = False) -> None:
        if self.pool is not None:
            self.pool.close(force=failed)


def run_experiment(
    cfg: ExperimentConfig,
    on_level: Callable | None = None,
    argv: list[str] | None = None,
    seeds: list[int] | None = None,
    wait: bool = False,
    expert=None,
    workers: int | None = 1,
) -> Path:
    """Run (or resume) every level of `cfg` for `seeds` (default: all; whole blocks of
    cfg.block_seeds); returns the run directory.

    `workers`: processes that train a level's blocks at once, each pinned to a core with one XLA
    thread (None: one per usable core; 1: everything in this process). The results do not depend
    on it. Finished (level, seed) pieces are verified against their checksums and skipped;
    corrupted ones are moved aside and recomputed. `on_level(level, rows, resumed)` is called after
    each level with its metrics. `expert` is the resolved teacher of agents that need one
    (`ticketlab.experiments.run` resolves it).
    """
    validate(cfg)
    run = paths.run_dir(cfg)
    block = list(range(cfg.seeds)) if seeds is None else sorted(seeds)
    bad = [s for s in block if not 0 <= s < cfg.seeds]
    if bad:
        raise ConfigError("seeds", f"seed {bad[0]} outside 0 .. {cfg.seeds - 1}")
    groups = whole_groups(cfg, block)
    exp = build(cfg, expert)  # cheap (nothing compiles yet), and a mismatched expert fails before any write
    prepare_run_dir(run, cfg, argv)
    trainer = _Trainer(exp, run, expert, worker_count(workers, blocks_per_level(cfg)))
    ok = False
    with seed_locks(run, block, wait=wait), contextlib.ExitStack() as stack:
        stack.callback(lambda: trainer.close(failed=not ok))
        repair(run, block, cfg.levels)
        write_results_csv(run)
        failed: set[tuple[int, str]] = set()  # chains that stopped at an earlier level
        for level in range(cfg.levels):
            if level > 0:
                failed |= failures_at(run, block, level - 1)
            pending = [g for g in groups if any(not seed_complete(run, level, s) for s in g)]
            trainer.train(level_blocks(cfg, level, pending, failed))
            written = [s for g in pending for s in g if not seed_complete(run, level, s)]
            for seed in written:
                paths.seed_dir(run, level, seed).mkdir(parents=True, exist_ok=True)  # (all its chains may have failed)
                mark_seed_complete(run, level, seed)
            append_results(run, level, written)
            if on_level:
                on_level(level, _load_metrics(run, level, block), not pending)
        ok = True
    write_results_csv(run)
    return run


def _load_metrics(run: Path, level: int, seeds) -> list[dict]:
    rows = []
    for seed in seeds:
        rows.extend(store.load_json(p) for p in sorted(paths.seed_dir(run, level, seed).glob("*/metrics.json")))
    return [r for r in rows if r.get("status", "ok") == "ok"]
