"""`ticketlab ARGS` -> the subcommand's options, parsed by tyro from one union of the subcommands
(cli/options.py), `run`'s fields defaulting to its preset's values. Every mistake is one line
naming the option (a ConfigError) before anything heavy is imported: unknown options and values of
the wrong type are caught against the dataclass's fields, and anything tyro still refuses is cut
from its framed message to its first line."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Union

import tyro

from ticketlab.cli.options import COMMANDS, Run
from ticketlab.core.config import check_bounds
from ticketlab.core.errors import ConfigError
from ticketlab.core.flags import check_flags
from ticketlab.presets.arguments import base_config, preset_name, split_sweep, unknown_field

HELP = ("-h", "--help")
FRAME = re.compile(r"[│╭╮╰╯─]+")


class TyroRefused(ConfigError):
    """tyro refused the arguments (its message, as one line)."""

    def __init__(self, message: str):
        ValueError.__init__(self, message)
        self.field = ""


@dataclass(frozen=True)
class Parsed:
    command: str
    options: tuple[Any, ...]
    """The subcommand's options: one, or for `run` with several sizes of `--student.hidden`, one per size."""
    torsos: tuple[str | None, ...] = ()
    """`run`: the torso `--network.torso` named, per config (None: not named)."""


def commands_union(defaults: dict[str, Any]) -> Any:
    """Every subcommand as one type tyro parses (`defaults`: a subcommand's default instance)."""
    members = []
    for name, cls in COMMANDS.items():
        default = {"default": defaults[name]} if name in defaults else {}
        members.append(Annotated[cls, tyro.conf.subcommand(name, **default)])
    return Union[tuple(members)]  # noqa: UP007 (a union built at run time)


def tyro_parse(args: list[str], defaults: dict[str, Any] | None = None) -> Any:
    """tyro on the union of subcommands; its refusals become one line (its help goes to stdout and
    exits 0, as tyro does)."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(
                commands_union(defaults or {}),
                args=args,
                prog="ticketlab",
                config=(tyro.conf.OmitSubcommandPrefixes,),
            )
    except SystemExit as exit_:
        if not exit_.code:
            raise
        raise TyroRefused(first_line(captured.getvalue())) from None


def first_line(framed: str) -> str:
    """The message of tyro's framed error, as one line (its title and first paragraph)."""
    lines = [FRAME.sub(" ", line).strip() for line in framed.splitlines()]
    lines = [line for line in lines if line and not line.startswith("For full helptext")]
    if not lines:
        return "the arguments were refused (see ticketlab --help)"
    title, body = lines[0], " ".join(lines[1:3])
    if not body or body.lower().startswith(title.lower()):
        return body or title
    return f"{title.lower()}: {body}"


def unknown_option(command: str) -> Callable[[str, Iterable[str]], str]:
    def message(name: str, known: Iterable[str]) -> str:
        return f"unknown option of {command}; allowed: {', '.join(known)}"

    return message


def parse(argv: list[str]) -> Parsed:
    """The subcommand and its options; `--help` anywhere prints that subcommand's help and exits 0."""
    if not argv or argv[0] in HELP:
        tyro_parse(["--help"])
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        raise ConfigError("command", f"unknown {command!r}; allowed: {', '.join(COMMANDS)}")
    if command == "run":
        return parse_run(rest)
    if not any(a in HELP for a in rest):
        check_flags(COMMANDS[command], rest, unknown_option(command))
    return Parsed(command, (tyro_parse([command, *rest]),))


def parse_run(args: list[str]) -> Parsed:
    """`run PRESET [--scale S] [options and fields]`: the preset's config at that scale is every
    field's default; several `--student.hidden` sizes give one Run each."""
    if not args or args[0].startswith("-"):
        if any(a in HELP for a in args):
            tyro_parse(["run", *args])
        preset_name(args)  # raises: no preset
    options, torsos = [], []
    for argset in split_sweep(args):
        name = argset[0]
        config, scale, torso, rest = base_config(argset)
        default = Run(preset=name, scale=scale, config=config)
        if not any(a in HELP for a in rest):
            for extra in check_flags(Run, rest, unknown_field):
                raise ConfigError("arguments", f"unexpected {extra!r}; flags look like --seeds 5 (see --help)")
        options.append(tyro_parse(["run", name, *rest], {"run": default}))
        check_bounds(options[-1].config)
        torsos.append(torso)
    return Parsed("run", tuple(options), tuple(torsos))
