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

from collections.abc import Callable
from pathlib import Path

from ticketlab.core.config import DEFAULT_EVERY_S, ExperimentConfig, to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.imp.blocks import BlockTask, run_block, train_block
from ticketlab.imp.chains import Chains
from ticketlab.imp.layout import Block, blocks_per_level, whole_groups
from ticketlab.imp.memory import check_fits
from ticketlab.imp.program import Experiment, build
from ticketlab.runtime.workers import Placement, WorkerPool, one_xla_thread, placement
from ticketlab.store import files, paths
from ticketlab.store.completion import mark_seed_complete, repair, seed_complete
from ticketlab.store.lock import seed_locks
from ticketlab.store.results import append_results, write_results_csv
from ticketlab.store.rundir import check_out, prepare_run_dir


def check_checkpoint_every(seconds) -> None:
    """`--checkpoint-every-s`: a number of seconds >= 0."""
    if not isinstance(seconds, (int, float)) or seconds != seconds or seconds < 0:
        raise ConfigError(
            "checkpoint-every-s", f"must be a number of seconds >= 0 (0: no mid-level checkpoints), got {seconds!r}"
        )


def failures_at(run: Path, seeds: list[int], level: int) -> set[tuple[int, str]]:
    """(seed, condition) chains that failed at `level` ("*": the dense level 0, every condition)."""
    out = set()
    for seed in seeds:
        for path in paths.seed_dir(run, level, seed).glob("*/metrics.json"):
            m = files.load_json(path)
            if m.get("status") == "failed":
                out.add((seed, m["condition"] if level > 0 else "*"))
    return out


class _InProcess:
    """The pool's interface for `--workers 1`: blocks train here, one after another, in order."""

    def __init__(self, exp: Experiment, run: Path, checkpoint_every_s: float):
        self.exp, self.run, self.every = exp, run, checkpoint_every_s
        self.queue: list = []

    def submit(self, task: BlockTask) -> Block:
        self.queue.append(task.block)
        return task.block

    def next_result(self):
        block = self.queue.pop(0)
        return block, True, train_block(self.exp, self.run, block, self.every)

    def close(self, force: bool = False) -> None:
        pass


class _InWorkers:
    """Blocks in pinned worker processes, each on its device (see ticketlab.runtime.workers)."""

    def __init__(self, place: Placement):
        self.pool = WorkerPool(place.workers, place.slots)
        self.blocks: dict = {}

    def submit(self, task: BlockTask) -> None:
        self.blocks[self.pool.submit(run_block, task, task.block.describe())] = task.block

    def next_result(self):
        ticket, ok, value = self.pool.next_result()
        return self.blocks.pop(ticket), ok, value

    def close(self, force: bool = False) -> None:
        self.pool.close(force=force)


def run_experiment(
    cfg: ExperimentConfig,
    on_level: Callable | None = None,
    argv: list[str] | None = None,
    seeds: list[int] | None = None,
    wait: bool = False,
    expert=None,
    workers: int | None = 1,
    in_process: bool = True,
    devices: int | str | None = None,
    checkpoint_every_s: float = DEFAULT_EVERY_S,
) -> Path:
    """Run (or resume) every level of `cfg` for `seeds` (default: all; whole blocks of
    cfg.block_seeds); returns the run directory.

    `workers`: processes that train blocks at once, each pinned to a core with one XLA thread
    (None: one per device on an accelerator, one per usable core on the CPU; 1: one at a time),
    spread over `devices` devices of JAX's default backend (None or "all": every one). A block
    saves its training state at the first segment boundary `checkpoint_every_s` seconds after its
    start or last save (0: never) and continues from it when run again (imp/checkpoints.py). The
    results depend on none of these. With one
    worker, blocks train in this process when `in_process` is set (the library's default, so
    environments registered by the calling script are seen) or when this process runs one XLA
    thread anyway; otherwise in one pinned worker, so that no block ever trains with XLA's
    multi-threaded matrix products (which change the last bits of wide networks' results).
    Finished (level, seed) pieces are verified against their checksums and skipped; corrupted ones
    are moved aside and recomputed. `on_level(level, rows, resumed)` is called once per level, in
    order, when every seed has finished it. `expert` is the resolved teacher of agents that need
    one (`ticketlab.run` resolves it). The config must be valid (`ticketlab.run` validates it).
    """
    run = paths.run_dir(cfg)
    block = list(range(cfg.seeds)) if seeds is None else sorted(seeds)
    bad = [s for s in block if not 0 <= s < cfg.seeds]
    if bad:
        raise ConfigError("seeds", f"seed {bad[0]} outside 0 .. {cfg.seeds - 1}")
    groups = whole_groups(cfg, block)
    check_checkpoint_every(checkpoint_every_s)
    check_out(cfg.out)
    exp = build(cfg, expert)  # cheap (nothing compiles yet), and a mismatched expert fails before any write
    place = placement(workers, devices, blocks_per_level(cfg))
    check_fits(exp, place.per_device)
    prepare_run_dir(run, cfg, argv)
    with seed_locks(run, block, wait=wait):
        repair(run, block, cfg.levels)
        write_results_csv(run)
        first = {
            g: next((lv for lv in range(cfg.levels) if any(not seed_complete(run, lv, s) for s in g)), cfg.levels)
            for g in groups
        }
        failed = {f for g in groups for lv in range(first[g]) for f in failures_at(run, list(g), lv)}
        chains = Chains(cfg, groups, first, failed)
        ready = chains.first_blocks()
        here = place.workers == 1 and (in_process or one_xla_thread()) and not place.slots
        trainer = _InProcess(exp, run, checkpoint_every_s) if here or not ready else _InWorkers(place)
        config, reported, running, ok = to_dict(cfg), 0, 0, False
        try:
            while True:
                for b in ready:
                    trainer.submit(BlockTask(config, str(run), b, expert, checkpoint_every_s))
                running += len(ready)
                while reported < cfg.levels and chains.level_finished(reported):
                    if on_level:
                        on_level(reported, _load_metrics(run, reported, block), reported < min(first.values()))
                    reported += 1
                if not running:
                    break
                done, succeeded, value = trainer.next_result()
                running -= 1
                if not succeeded:
                    raise value
                ready = chains.finish(done, value)
                for level, group in chains.newly_finished():
                    written = [s for s in group if not seed_complete(run, level, s)]
                    for seed in written:
                        paths.seed_dir(run, level, seed).mkdir(
                            parents=True, exist_ok=True
                        )  # (its chains may all have failed)
                        mark_seed_complete(run, level, seed)
                    append_results(run, level, written)
            ok = True
        finally:
            trainer.close(force=not ok)
    write_results_csv(run)
    return run


def _load_metrics(run: Path, level: int, seeds) -> list[dict]:
    rows: list[dict] = []
    for seed in seeds:
        rows.extend(files.load_json(p) for p in sorted(paths.seed_dir(run, level, seed).glob("*/metrics.json")))
    return [r for r in rows if r.get("status", "ok") == "ok"]
