"""What a preset is: a registered entry (`Preset`) with its demo config, the fields that differ at
the paper's scale, its networks per torso and its expert threshold; `preset(name, scale, torso)`
builds one. The entries themselves are in one file per task family (classic.py, mazegrid.py, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ticketlab.core.config import ExperimentConfig, canonical_torso, replace_fields
from ticketlab.core.errors import ConfigError, check_choice
from ticketlab.core.registry import Registry

SCALES = ("demo", "paper")
FAMILIES = ("classic", "mazegrid", "minatar", "continuous", "atari", "supervised", "suites")
"""The task families, in the order the docs and `ticketlab presets` list them."""


@dataclass(frozen=True)
class Preset:
    name: str
    family: str
    """Its task family (FAMILIES): the docs page that explains it."""
    build: Callable[[], ExperimentConfig]
    """The demo config (its seeds and levels included)."""
    description: str
    """One line for `ticketlab presets`."""
    paper: Mapping[str, Any] = field(default_factory=dict)
    """Dotted fields that differ at the paper's scale; a value may be a function of the config it
    overrides (minatar-bc's data size follows the torso)."""
    torsos: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The networks the preset has per `--network.torso` (dotted fields set for each; the first is
    the default). Empty: one network, whatever the torso flag says."""
    framework: Mapping[str, Any] = field(default_factory=dict)
    """Dotted fields of the paper's framework (rlpyt, PyTorch's pruning) where the paper is silent,
    laid over the demo config before its torso and scale (presets/framework.py)."""
    expert_threshold: float | None = None
    """An RL preset's threshold as a behavioural-cloning teacher: the mean evaluation return a
    cached expert must reach (None: `--bc.expert-threshold` decides)."""


PRESETS: Registry[Preset] = Registry("preset")
"""Every preset `ticketlab run` can name: the paper's settings (SI C) per task, at demo and paper
scale (`ticketlab presets` lists them)."""


def register_preset(entry: Preset, *, replace: bool = False) -> Preset:
    """Add a preset (`Preset`: its name, family, description, demo config and the paper's
    overrides); `ticketlab run NAME` and `ticketlab.preset(NAME)` then build it."""
    check_choice("family", entry.family, FAMILIES)
    return PRESETS.register(entry.name, entry, replace=replace)


def torso_of(entry: Preset, torso: str | None) -> str | None:
    """The torso variant of `entry` that `torso` names (its default when None); None for presets
    with one network."""
    if not entry.torsos:
        return None
    if torso is None:
        return next(iter(entry.torsos))
    torso = canonical_torso(torso)
    if torso not in entry.torsos:
        allowed = ", ".join(t if t != "minatar-cnn" else "cnn (= minatar-cnn)" for t in entry.torsos)
        raise ConfigError("network.torso", f"unknown {torso!r} for {entry.name}; allowed: {allowed}")
    return torso


def preset(name: str, scale: str = "demo", torso: str | None = None) -> ExperimentConfig:
    """The named preset at `scale` (demo or paper); `torso` picks the network of presets that have
    one per torso (the MinAtar presets), others ignore it."""
    entry = PRESETS.get(name)
    check_choice("scale", scale, SCALES)
    cfg = replace_fields(entry.build(), entry.framework)
    variant = torso_of(entry, torso)
    if variant is not None:
        cfg = replace_fields(cfg, entry.torsos[variant])
    if scale == "paper":
        cfg = replace_fields(cfg, {k: v(cfg) if callable(v) else v for k, v in entry.paper.items()})
    return cfg


def describe() -> list[tuple[str, str, str]]:
    """(name, one-line description, scales) of every preset."""
    out = []
    for name, entry in PRESETS.items():
        scales = [preset(name, s) for s in SCALES]
        text = ", ".join(
            f"{s}: {c.seeds} seed{'s' if c.seeds != 1 else ''} x {c.levels} levels" for s, c in zip(SCALES, scales)
        )
        out.append((name, entry.description, text))
    return out
