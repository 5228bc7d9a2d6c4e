"""What a launcher runs: one task per (config, seed group of block_seeds), its blocks one vmapped call each."""

from __future__ import annotations

import dataclasses
import itertools
import os
import socket
import time

from ticketlab.core.config import DEFAULT_EVERY_S, ExperimentConfig, from_dict, to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.imp.faults import fail_once
from ticketlab.imp.layout import seed_groups


@dataclasses.dataclass(frozen=True)
class Task:
    config: dict
    """The full ExperimentConfig as a JSON-ready dict (portable to any worker)."""
    seeds: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.config['name']} seeds {self.seeds[0]}-{self.seeds[-1]}"


def make_tasks(configs: list[ExperimentConfig]) -> list[Task]:
    """One task per seed group of each config (`block_seeds`; 0: all seeds in one task): a group's
    chains depend on nothing outside it, so tasks never wait for each other."""
    return [Task(to_dict(cfg), group) for cfg in configs for group in seed_groups(cfg)]


def run_task(
    task: Task, workers: int | None = 1, devices: int | str | None = None, checkpoint_every_s: float = DEFAULT_EVERY_S
) -> dict:
    """Run one task to the end (resuming what is on disk, mid-level checkpoints included); report
    where it ran. `workers`: the processes its blocks train in (1: one at a time, here if this
    process runs one XLA thread, else in one pinned worker), over `devices` devices."""
    fail_once()
    cfg = from_dict(task.config)
    start = time.perf_counter()
    run = run_experiment(
        cfg,
        seeds=list(task.seeds),
        wait=True,
        argv=["ticketlab", "sweep"],
        workers=workers,
        in_process=False,
        devices=devices,
        checkpoint_every_s=checkpoint_every_s,
    )
    node = None
    try:
        import ray  # optional extra: only a task launched by the ray backend has it

        if ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()
    except ImportError:
        pass
    return {
        "run": str(run),
        "seeds": list(task.seeds),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "node": node,
        "seconds": time.perf_counter() - start,
    }


def expand_grid(base: ExperimentConfig, grid: list[str]) -> list[ExperimentConfig]:
    """`["init.scheme=torch-default,xavier-uniform", "seeds=3"]` -> one config per combination."""
    axes = []
    for spec in grid:
        if "=" not in spec:
            raise ConfigError(
                "grid", f"{spec!r} must look like field=value1,value2 (e.g. init.scheme=torch-default,xavier-uniform)"
            )
        field, values = spec.split("=", 1)
        options = [v for v in values.split(",") if v != ""]
        if not options:
            raise ConfigError("grid", f"{field} has no values; give field=value1,value2")
        axes.append((field, options))
    configs = []
    for combo in itertools.product(*[[(f, v) for v in opts] for f, opts in axes]):
        configs.append(with_fields(base, dict(combo)))
    return configs


def with_fields(cfg: ExperimentConfig, fields: dict[str, str]) -> ExperimentConfig:
    """Set dotted fields from strings, converting to each field's type."""
    data = to_dict(cfg)
    for dotted, raw in fields.items():
        node, parts = data, dotted.replace("-", "_").split(".")
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], dict):
                raise ConfigError("grid", f"unknown field {dotted!r}")
            node = node[part]
        leaf = parts[-1]
        if leaf not in node or isinstance(node[leaf], dict):
            raise ConfigError("grid", f"unknown field {dotted!r}; fields look like init.scheme, ppo.lr, seeds")
        node[leaf] = _convert(dotted, node[leaf], raw)
    return from_dict(data)


def _convert(field: str, current, raw: str):
    try:
        if isinstance(current, bool):
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, (list, tuple)):
            return [type(current[0])(x) if current else x for x in raw.split("+")]
    except ValueError:
        raise ConfigError("grid", f"{field}={raw!r} is not a {type(current).__name__}") from None
    return raw
