"""A config from a preset name and flags as `ticketlab run` takes them (`cartpole-ppo --scale paper
--init.input-scale 0.1`), parsed by tyro with the preset as every field's default. Nothing here
loads JAX: the command line answers `--help` and a mistyped flag at once; checking the config
against its environment is experiments/configure.py."""

from __future__ import annotations

import re
from collections.abc import Iterable

import tyro

from ticketlab.core.config import ExperimentConfig, canonical_torso
from ticketlab.core.errors import ConfigError
from ticketlab.core.flags import check_flags, similar
from ticketlab.presets.base import PRESETS, preset

WIDTHS = re.compile(r"^\d+(,\d+)*$")


def pop_option(args: list[str], flag: str, default: str) -> tuple[str, list[str]]:
    """Take `--flag X` / `--flag=X` out of args (an option that picks defaults, not a config field)."""
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


def pop_scale(args: list[str]) -> tuple[str, list[str]]:
    """Take `--scale X` / `--scale=X` out of args (it picks the preset's seeds and levels)."""
    try:
        return pop_option(args, "--scale", "demo")
    except ConfigError:
        raise ConfigError("scale", "needs a value; allowed: demo, paper") from None


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


def unknown_field(name: str, known: Iterable[str]) -> str:
    close = similar(name, known)
    return "unknown field" + (f"; did you mean {', '.join(close)}?" if close else "; see ticketlab run PRESET --help")


def preset_name(args: list[str]) -> str:
    """The preset an argument list starts with (a one-line error if it names none)."""
    if not args or args[0].startswith("-"):
        raise ConfigError("preset", f"missing; allowed: {', '.join(PRESETS)}")
    return args[0]


def base_config(args: list[str]) -> tuple[ExperimentConfig, str, str | None, list[str]]:
    """PRESET [--scale S] [flags] -> (the preset's config at that scale, the scale, the torso named,
    the flags left for tyro). One size of `--student.hidden` only (several make a sweep: `split_sweep`)."""
    name = preset_name(args)
    scale, rest = pop_scale(args[1:])
    rest, torso = canonical_torso_flag(rest)
    return preset(name, scale, torso), scale, torso, rest


def parsed_config(args: list[str]) -> tuple[ExperimentConfig, str | None]:
    """PRESET [--scale S] [tyro flags] -> (config, torso named), parsed, not yet checked against
    its environment (`experiments.configure.parse_run_args` does both)."""
    argsets = split_sweep(args)
    if len(argsets) > 1:
        raise ConfigError("student.hidden", "several sizes make a sweep; run them with ticketlab run")
    base, _, torso, rest = base_config(argsets[0])
    for extra in check_flags(ExperimentConfig, rest, unknown_field):
        raise ConfigError("arguments", f"unexpected {extra!r}; flags look like --seeds 5 (see --help)")
    return tyro.cli(ExperimentConfig, default=base, args=rest, prog=f"ticketlab run {args[0]}"), torso
