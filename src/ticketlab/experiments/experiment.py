"""Running an experiment: validate the config, resolve what the agent needs from outside its own
run (a behavioural-cloning expert, experts.py), then run IMP (imp/driver.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ticketlab.agents.registry import AGENTS
from ticketlab.core.config import DEFAULT_EVERY_S, ExperimentConfig
from ticketlab.envs.registry import import_env_modules
from ticketlab.experiments.configure import canonical
from ticketlab.experiments.experts import resolve_expert
from ticketlab.experiments.validate import validate
from ticketlab.imp.driver import run_experiment


def run(
    cfg: ExperimentConfig,
    on_level: Callable | None = None,
    argv: list[str] | None = None,
    seeds: list[int] | None = None,
    wait: bool = False,
    workers: int | None = 1,
    in_process: bool = True,
    devices: int | str | None = None,
    checkpoint_every_s: float = DEFAULT_EVERY_S,
) -> Path:
    """Run (or resume) `cfg`: resolve its expert if the agent needs one, then every IMP level.
    The config is validated first, so a bad field never trains an expert. `workers`: processes
    training a level's blocks at once, one per core (None: every usable core; 1: one at a time);
    the results are the same for any number. `in_process`: with one worker, train here even if
    this process runs several XLA threads; `devices`, `checkpoint_every_s`: see
    `imp.driver.run_experiment`. Aliases are resolved
    first (`configure.canonical`), so a run has one directory however its environment was named."""
    if cfg.env.module:  # (its ids are registered on import)
        import_env_modules(cfg.env.module)
    cfg = validate(canonical(cfg))
    expert = resolve_expert(cfg, in_process) if AGENTS.get(cfg.algo).needs_expert else None
    return run_experiment(
        cfg,
        on_level=on_level,
        argv=argv,
        seeds=seeds,
        wait=wait,
        expert=expert,
        workers=workers,
        in_process=in_process,
        devices=devices,
        checkpoint_every_s=checkpoint_every_s,
    )
