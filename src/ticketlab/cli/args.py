"""The command line's own options (`--flag value` of the subcommands other than run) and its usage
text; a run's config from a preset and flags is experiments/configure.py."""

from __future__ import annotations

from ticketlab.core.errors import ConfigError

USAGE = """usage:
  ticketlab run PRESET [--scale demo|paper] [--seeds N] [--levels N] [--init.input-scale X] ... [--wait]
                [--workers N|auto] [--devices N|all] [--checkpoint-every-s S] [--block-seeds K]
                [--log tensorboard|wandb ...]
  ticketlab run cartpole-bc --student.hidden 128,128 256,256     (several sizes: a sweep)
  ticketlab expert RL_PRESET [--out runs] [--threshold X] [--seeds N] [--steps N] [--torso T] [--scale S]
  ticketlab compare RUN_DIR RUN_DIR ... [--x percent|weights] [--conditions C ...] [--out FILE]
  ticketlab sweep PRESET ... [--grid FIELD=V1,V2 ...] [--seeds N] [--levels N] [--scale S]
                  [--backend local|ray|submitit] [--workers N|auto] [--address auto|HOST:PORT]
                  [--partition P] [--block-seeds K] [--retries N] [--out DIR] [--devices N|all]
                  [--checkpoint-every-s S] [--gpus-per-task N]
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
