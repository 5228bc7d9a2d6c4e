"""Lottery tickets around a training function of your own: `find_tickets(init=, train=, ...)`.

Your `train(key, params, mask) -> TrainResult` is pure, jit- and vmap-able, and applies `mask`
(`ticketlab.apply_mask` in the forward pass, `ticketlab.masked(optimizer, mask)` for the steps);
`init(key) -> params` gives a dict of subtrees (e.g. {"actor": ..., "critic": ...}). ticketlab
vmaps `train` over every (seed, condition) of a level and runs it through the same engine as
`ticketlab run`: the same conditions and keys, the same store (checksums, locks, resume), figures
and tables. A `train` that leaves a pruned weight nonzero is refused with the leaves named.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from ticketlab.agents import custom
from ticketlab.core.config import CustomConfig, ExperimentConfig, IMPConfig
from ticketlab.core.errors import ConfigError
from ticketlab.experiments.experiment import run as run_config
from ticketlab.experiments.trackers import Trackers
from ticketlab.pruning.conditions import PAPER_CONDITIONS
from ticketlab.store import paths


def tickets_config(
    *,
    init: Callable,
    train: Callable,
    loss: Callable | None = None,
    prune: Sequence[str] = ("actor",),
    seeds: int = 5,
    levels: int = 12,
    conditions: Sequence[str] = PAPER_CONDITIONS,
    input_names: Sequence[str] = (),
    out: str = "runs/tickets",
    return_floor: float = 0.0,
    env_steps: int = 0,
    settings: dict | None = None,
    prune_fraction: float = 0.2,
    prune_count: str = "ceil",
    score: str = "magnitude",
    permute_values: str = "init",
    block_seeds: int = 0,
) -> tuple[ExperimentConfig, bool]:
    """The config `find_tickets` runs, and whether every function is importable by name (so that
    worker processes can train it)."""
    functions = [f for f in (init, train, loss) if f is not None]
    if not all(callable(f) for f in functions):
        raise ConfigError("train", "init, train (and loss) must be functions")
    shared = all(custom.importable(f) for f in functions)
    refs = [custom.reference(f) if custom.importable(f) else custom.hold(f) for f in (init, train)]
    loss_ref = "" if loss is None else (custom.reference(loss) if custom.importable(loss) else custom.hold(loss))
    store = Path(out)
    cfg = ExperimentConfig(
        name=store.name,
        algo=custom.NAME,
        seeds=int(seeds),
        levels=int(levels),
        out=str(store.parent),
        imp=IMPConfig(
            prune_fraction=float(prune_fraction),
            prune_count=prune_count,
            conditions=tuple(conditions),
            score=score,
            permute_values=permute_values,
        ),
        custom=CustomConfig(
            init=refs[0],
            train=refs[1],
            loss=loss_ref,
            prune=tuple(prune),
            obs_names=tuple(input_names),
            return_floor=float(return_floor),
            env_steps=int(env_steps),
            settings=json.dumps(settings or {}, sort_keys=True),
        ),
        block_seeds=int(block_seeds),
    )
    return cfg, shared


def find_tickets(
    *,
    init: Callable,
    train: Callable,
    workers: int | None = 1,
    log: Sequence[str] = (),
    on_level: Callable | None = None,
    **options,
) -> Path:
    """Run (or resume) IMP on your own training function; returns the run directory,
    `<out>-<config hash>` (like `ticketlab run`'s `runs/<preset>-<hash>`).

    `options` are those of `tickets_config`:

    - `prune`: top-level subtrees of the params whose weights (leaves of 2+ dimensions) are pruned.
    - `conditions`: any of `ticketlab.CONDITIONS` (the paper's four by default; the baselines
      `snip`, `grasp` need `loss(key, params, mask) -> scalar`, the loss on one batch);
      `seeds`, `levels`, `prune_fraction`, `prune_count`, `score`, `block_seeds` as in `ticketlab run`.
    - `input_names`: the input dimensions of each pruned subtree's first layer (`dense_0`), for the
      input figure; `return_floor`: the worst return, for the normalized ticket plot.
    - `settings`: your own hyper-parameters (JSON): part of the run's identity, so a changed
      setting never resumes (or overwrites) another setting's run.
    - `workers`: processes that train blocks at once (None: one per core); needs functions
      importable from a module (not `__main__`). The results do not depend on it.
    - `log`: trackers to mirror each level to (`tensorboard`, `wandb`).
    """
    cfg, shared = tickets_config(init=init, train=train, **options)
    if workers != 1 and not shared:
        raise ConfigError(
            "workers",
            "worker processes import your functions by name; define init, train (and "
            "loss) in a module, not in __main__ or a closure, or use workers=1",
        )
    trackers = Trackers(log, paths.run_dir(cfg), cfg, cfg.custom.obs_names)

    def report_level(level, rows, resumed):
        trackers.on_level(level, rows, resumed)
        if on_level:
            on_level(level, rows, resumed)

    try:
        return run_config(cfg, on_level=report_level, workers=workers)
    finally:
        trackers.close()
