"""Command-line parsing: preset + tyro flags into a validated config, with one-line errors for
unknown flags and wrong types before tyro sees them; `--student.hidden 128,128 256,256` sweeps."""
from __future__ import annotations

import dataclasses
import re
import typing

import tyro

from ticketlab.config import ExperimentConfig, canonical_torso
from ticketlab.envs import atari
from ticketlab.errors import ConfigError
from ticketlab.presets import PRESETS, preset
from ticketlab.validate import validate

USAGE = """usage:
  ticketlab run PRESET [--scale demo|paper] [--seeds N] [--levels N] [--init.input-scale X] ... [--wait]
                [--workers N|auto] [--block-seeds K] [--log tensorboard|wandb ...]
  ticketlab run cartpole-bc --student.hidden 128,128 256,256     (several sizes: a sweep)
  ticketlab expert RL_PRESET [--out runs] [--threshold X] [--seeds N] [--steps N] [--torso T] [--scale S]
  ticketlab compare RUN_DIR RUN_DIR ... [--x percent|weights] [--conditions C ...] [--out FILE]
  ticketlab sweep PRESET ... [--grid FIELD=V1,V2 ...] [--seeds N] [--levels N] [--scale S]
                  [--backend local|ray|submitit] [--workers N|auto] [--address auto|HOST:PORT]
                  [--partition P] [--block-seeds K] [--retries N] [--out DIR]
  ticketlab status RUNS_OR_RUN_DIR [--verify]
  ticketlab plot RUN_DIR
  ticketlab play ENV [--render FILE.gif|FILE.png] [--episodes N] [--encoding E] [--key K]
  ticketlab play --run RUN_DIR [--level L] [--seed S] [--condition C] [--render FILE.gif] ...
  ticketlab presets
  ticketlab envs [--atari]                  (environment ids; --atari: every installed ALE game)
  ticketlab inputs RUN_DIR --level L [--condition C]     (dense agents on the inputs the ticket kept)
  ticketlab figure N|list [--scale demo|paper] [--out DIR] [--only PANEL ...]
  ticketlab report RUN_DIR ... [--out report.html]
`ticketlab run PRESET --help` lists every field with its documentation."""

WIDTHS = re.compile(r"^\d+(,\d+)*$")


def pop_values(args: list[str], flag: str) -> tuple[list[str], list[str]]:
    """Take `--flag A B ...` (one or more values up to the next flag) out of args."""
    rest, values, i = [], [], 0
    while i < len(args):
        if args[i] == flag:
            j = i + 1
            while j < len(args) and not args[j].startswith("--"):
                values.append(args[j])
                j += 1
            if j == i + 1:
                raise ConfigError(flag.lstrip("-"), "needs a value")
            i = j
            continue
        rest.append(args[i])
        i += 1
    return values, rest


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
                raise ConfigError(name.lstrip("-"), f"{v!r} is not {'an integer' if item is int else 'a number'}") from None


def parse_run_args(args: list[str]):
    """PRESET [--scale S] [tyro flags] -> validated ExperimentConfig."""
    if not args or args[0].startswith("-"):
        if args and args[0] in ("-h", "--help"):
            print(USAGE)
            raise SystemExit(0)
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
    cfg = validate(cfg)
    check_pixel_torso(cfg, torso)
    return cfg


def check_pixel_torso(cfg: ExperimentConfig, torso_flag: str | None) -> None:
    """An ALE game's frames go into an MLP only when `--network.torso mlp` says so."""
    env = cfg.env
    if env.name.startswith(atari.PREFIX) and cfg.network.torso == "mlp" and torso_flag is None:
        inputs = env.atari.frame_stack * env.atari.screen_size ** 2
        raise ConfigError("network.torso", f"{env.name} observes {env.atari.frame_stack}x{env.atari.screen_size}x"
                          f"{env.atari.screen_size} frames, which the mlp torso would flatten into {inputs:,} inputs; "
                          f"allowed: nature-cnn (the Atari presets' network), or --network.torso mlp said explicitly")


def options(args: list[str], flags: dict[str, str], command: str) -> tuple[list[str], dict]:
    """Positional args and `--flag value` options; flags whose default is a list take several
    values and may repeat (`--conditions a b`, `--grid x=1,2 --grid y=3`)."""
    positional, options, i = [], {k: (list(v) if isinstance(v, list) else v) for k, v in flags.items()}, 0
    given: set[str] = set()
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            key = a[2:].replace("-", "_")
            if key not in flags:
                raise ConfigError(a, f"unknown option of {command}; allowed: {', '.join('--' + f for f in flags)}")
            values = []
            while i + 1 < len(args) and not args[i + 1].startswith("--"):
                values.append(args[i + 1])
                i += 1
            if not values:
                raise ConfigError(a, "needs a value")
            if isinstance(flags[key], list):
                options[key] = (options[key] if key in given else []) + values
            else:
                options[key] = values[0]
                positional.extend(values[1:])
            given.add(key)
        else:
            positional.append(a)
        i += 1
    return positional, options


def int_option(opts: dict, name: str, minimum: int) -> int:
    try:
        value = int(opts[name])
    except ValueError:
        raise ConfigError(name.replace("_", "-"), f"must be an integer, got {opts[name]!r}") from None
    if value < minimum:
        raise ConfigError(name.replace("_", "-"), f"must be >= {minimum}, got {value}")
    return value
