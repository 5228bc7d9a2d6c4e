"""A config from a preset name and flags as `ticketlab run` takes them (`cartpole-ppo --scale paper
--init.input-scale 0.1`): the command line, sweeps and paper figures build their configs here. Unknown
flags and values of the wrong type are one-line errors before tyro sees them; `--student.hidden
128,128 256,256` names several configs (a sweep)."""

from __future__ import annotations

import dataclasses
import math
import re
import typing

import tyro

from ticketlab.core.config import ExperimentConfig, canonical_torso, replace_fields
from ticketlab.core.errors import ConfigError
from ticketlab.envs.registry import called_torso, canonical_id, env_spec, import_env_modules
from ticketlab.experiments.validate import validate
from ticketlab.presets import PRESETS, preset

WIDTHS = re.compile(r"^\d+(,\d+)*$")


def pop_scale(args: list[str]) -> tuple[str, list[str]]:
    """Take `--scale X` / `--scale=X` out of args (it picks the preset's seeds and levels)."""
    try:
        return pop_option(args, "--scale", "demo")
    except ConfigError:
        raise ConfigError("scale", "needs a value; allowed: demo, paper") from None


def pop_option(args: list[str], flag: str, default: str) -> tuple[str, list[str]]:
    """Take `--flag X` / `--flag=X` out of args (an option of the command, not a config field)."""
    rest, value, i = [], default, 0
    while i < len(args):
        a = args[i]
        if a == flag:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise ConfigError(flag.lstrip("-"), "needs a value")
            value, i = args[i + 1], i + 2
            continue
        if a.startswith(flag + "="):
            value = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return value, rest


def canonical_torso_flag(args: list[str]) -> tuple[list[str], str | None]:
    """Args with `--network.torso ALIAS` spelt canonically (`cnn` -> `minatar-cnn`), and the torso
    named (None if none): presets with a network per torso build the one named."""
    out, torso = list(args), None
    for i, a in enumerate(out):
        if a == "--network.torso" and i + 1 < len(out):
            torso = out[i + 1] = canonical_torso(out[i + 1])
        elif a.startswith("--network.torso="):
            torso = canonical_torso(a.split("=", 1)[1])
            out[i] = f"--network.torso={torso}"
    return out, torso


def split_sweep(args: list[str]) -> list[list[str]]:
    """`--student.hidden 128,128 256,256` -> one argument list per size, widths space-separated
    as tyro expects (`--student.hidden 128 128`)."""
    flag = "--student.hidden"
    if flag not in args:
        return [args]
    i = args.index(flag)
    j = i + 1
    while j < len(args) and WIDTHS.match(args[j]):
        j += 1
    sizes = args[i + 1 : j]
    if not sizes:
        raise ConfigError("student.hidden", "needs comma-separated widths, e.g. --student.hidden 256,128")
    if len(sizes) > 1 and all("," not in s for s in sizes):
        sizes = [",".join(sizes)]  # tyro's own spelling: --student.hidden 256 128
    return [args[:i] + [flag, *size.split(",")] + args[j:] for size in sizes]


def config_flags() -> dict[str, type]:
    """`--init.input-scale` -> float, ... for every field of ExperimentConfig."""
    out = {}

    def walk(cls, prefix):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            t = hints[f.name]
            if dataclasses.is_dataclass(t):
                walk(t, f"{prefix}{f.name}.")
            else:
                out["--" + (prefix + f.name).replace("_", "-")] = t

    walk(ExperimentConfig, "")
    return out


def check_flags(args: list[str]) -> None:
    """One-line errors for unknown flags and values of the wrong type (before tyro sees them)."""
    flags = config_flags()
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise ConfigError("arguments", f"unexpected {a!r}; flags look like --seeds 5 (see --help)")
        name = a.split("=", 1)[0]
        head, _, last = name[2:].rpartition(".")
        positive = "--" + (head + "." if head else "") + last[3:] if last.startswith("no-") else None
        if name not in flags and not (positive and flags.get(positive) is bool):
            close = [f for f in flags if f.split(".")[-1].lstrip("-") == last]
            hint = f"; did you mean {', '.join(close)}?" if close else "; see ticketlab run PRESET --help"
            raise ConfigError(name.lstrip("-"), f"unknown field{hint}")
        values = [a.split("=", 1)[1]] if "=" in a else []
        while "=" not in a and i + 1 < len(args) and not args[i + 1].startswith("--"):
            values.append(args[i + 1])
            i += 1
        i += 1
        kind = flags.get(name, bool)  # a --no-... negation is a bool
        item = typing.get_args(kind)[0] if typing.get_origin(kind) is tuple else kind
        if kind is bool:
            continue
        if not values:
            raise ConfigError(name.lstrip("-"), "needs a value")
        if typing.get_origin(kind) is not tuple and len(values) > 1:
            raise ConfigError(name.lstrip("-"), f"takes one value, got {' '.join(values)}")
        for v in values:
            try:
                item(v) if item in (int, float) else None
            except ValueError:
                raise ConfigError(
                    name.lstrip("-"), f"{v!r} is not {'an integer' if item is int else 'a number'}"
                ) from None


def canonical(cfg: ExperimentConfig) -> ExperimentConfig:
    """`cfg` with every alias spelt as the config stores it: the environment's canonical id
    (`acrobot` -> `Acrobot-v1`, `brax:hopper` -> `brax:hopper:spring`) and the torsos' names (`cnn` ->
    `minatar-cnn`), so one experiment has one run directory however it was named."""
    return replace_fields(
        cfg,
        {
            "env.name": canonical_id(cfg.env.name),
            "network.torso": canonical_torso(cfg.network.torso),
            "bc.expert_torso": canonical_torso(cfg.bc.expert_torso),
        },
    )


def parse_run_args(args: list[str]):
    """PRESET [--scale S] [tyro flags] -> validated ExperimentConfig (`--help` among the flags: tyro
    prints every field's documentation and exits)."""
    if not args or args[0].startswith("-"):
        raise ConfigError("preset", f"missing; allowed: {', '.join(PRESETS)}")
    argsets = split_sweep(args)
    if len(argsets) > 1:
        raise ConfigError("student.hidden", "several sizes make a sweep; run them with ticketlab run")
    name, rest = argsets[0][0], argsets[0][1:]
    scale, rest = pop_scale(rest)
    rest, torso = canonical_torso_flag(rest)
    base = preset(name, scale, torso)
    if not any(a in ("-h", "--help") for a in rest):
        check_flags(rest)
    cfg = tyro.cli(ExperimentConfig, default=base, args=rest, prog=f"ticketlab run {name}")
    if cfg.env.module:  # (its ids are registered on import)
        import_env_modules(cfg.env.module)
    cfg = validate(canonical(cfg))
    check_pixel_torso(cfg, torso)
    return cfg


def check_pixel_torso(cfg: ExperimentConfig, torso_flag: str | None) -> None:
    """Frames that call for a conv torso (an ALE game's) go into an MLP only when `--network.torso
    mlp` says so."""
    torso = called_torso(cfg.env)
    if torso and cfg.network.torso == "mlp" and torso_flag is None:
        shape = env_spec(cfg.env).obs_shape
        raise ConfigError(
            "network.torso",
            f"{cfg.env.name} observes {'x'.join(map(str, shape))} frames, which the mlp "
            f"torso would flatten into {math.prod(shape):,} inputs; allowed: {torso} (the Atari presets' "
            f"network), or --network.torso mlp said explicitly",
        )
