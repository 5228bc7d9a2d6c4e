"""Experiment-tracker logging (`--log tensorboard wandb`): per level and condition, the mean best
return over seeds, the density, every layer's density and the input-layer summary. The store
stays the source of truth; trackers only mirror what a finished level wrote.

Both are optional extras (`pip install -e ".[tensorboard]"`, `".[wandb]"`), imported only when
asked for. TensorBoard events go to `<run>/tensorboard/` through tensorboardX (no TensorFlow);
Weights & Biases runs offline under `<run>/wandb/` unless you configured it (`WANDB_MODE`, or
`WANDB_API_KEY` for online).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
from pathlib import Path
from typing import Any

from ticketlab.core.config import to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.core.registry import Registry

TRACKERS: Registry = Registry("log")
EXTRAS = {"tensorboard": ("tensorboardX", "tensorboard"), "wandb": ("wandb", "wandb")}
"""Tracker -> (the module it needs, the extra that installs it)."""


def level_scalars(rows: list[dict]) -> dict[str, float]:
    """`condition/quantity` -> mean over the seeds of one level's metrics rows."""
    out: dict[str, list[float]] = {}

    def add(key, value):
        out.setdefault(key, []).append(float(value))

    for r in rows:
        c = r["condition"]
        add(f"{c}/best_return", r["best_return"])
        add(f"{c}/density", r["density"])
        for layer, d in r.get("layer_density", {}).items():
            add(f"{c}/layer_density/{layer}", d)
        for module, summary in r.get("input_layer", {}).items():
            names = summary.get("names") or [f"input_{i}" for i in range(len(summary["kept"]))]
            total = sum(summary["magnitude"]) or 1.0
            for name, kept, mag in zip((n.replace(" ", "_") for n in names), summary["kept"], summary["magnitude"]):
                add(f"{c}/inputs/{module}/{name}/kept", kept)
                add(f"{c}/inputs/{module}/{name}/magnitude_share", mag / total)
    return {k: statistics.mean(v) for k, v in out.items()}


def _named(rows: list[dict], obs_names) -> list[dict]:
    """Rows whose input summaries carry the observation names (when they fit)."""
    named = []
    for r in rows:
        layers = {
            m: dict(s, names=list(obs_names)) if len(obs_names) == len(s["kept"]) else s
            for m, s in r.get("input_layer", {}).items()
        }
        named.append(dict(r, input_layer=layers))
    return named


class TensorBoard:
    def __init__(self, run: Path, cfg):
        from tensorboardX import SummaryWriter  # optional extra: [tensorboard]

        self.writer = SummaryWriter(logdir=str(Path(run) / "tensorboard"))
        self.writer.add_text("config", f"`{cfg.name}` {Path(run).name}", 0)

    def log_level(self, level: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, level)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class Wandb:
    def __init__(self, run: Path, cfg):
        import wandb  # optional extra: [wandb]

        mode: Any = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
        self.wandb = wandb
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "ticketlab"),
            name=Path(run).name,
            dir=str(run),
            mode=mode,
            config=to_dict(cfg),
            reinit="finish_previous",
        )

    def log_level(self, level: int, scalars: dict[str, float]) -> None:
        self.run.log(dict(scalars, level=level), step=level)

    def close(self) -> None:
        self.run.finish()


TRACKERS.register("tensorboard", TensorBoard)
TRACKERS.register("wandb", Wandb)


def check_trackers(names) -> tuple[str, ...]:
    """The tracker names, each known and installed (else a one-line ConfigError)."""
    for name in names:
        TRACKERS.get(name)
        module, extra = EXTRAS[name]
        if importlib.util.find_spec(module) is None:
            raise ConfigError("log", f'{name} needs {module}; run: pip install -e ".[{extra}]"')
    return tuple(dict.fromkeys(names))


class Trackers:
    """The trackers of one run, opened when its first level is reported (the run directory then
    exists); `on_level(level, rows, resumed)` is the driver's callback."""

    def __init__(self, names, run: Path, cfg, obs_names=()):
        self.names, self.run, self.cfg = check_trackers(names), Path(run), cfg
        self.obs_names = tuple(obs_names)
        self.trackers: list | None = None

    def on_level(self, level: int, rows: list[dict], resumed: bool = False) -> None:
        if self.trackers is None:
            self.trackers = [TRACKERS.get(name)(self.run, self.cfg) for name in self.names]
        scalars = level_scalars(_named(rows, self.obs_names))
        for t in self.trackers:
            t.log_level(level, scalars)

    def close(self) -> None:
        for t in self.trackers or []:
            t.close()
