"""The flags of a dataclass as the command line spells them (`--init.input-scale` -> float), and the
check that turns an unknown flag or a value of the wrong type into one line naming the flag, before
tyro parses the arguments (tyro itself answers with a framed, many-line message)."""

from __future__ import annotations

import dataclasses
import typing

import tyro

from ticketlab.core.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Flag:
    kind: typing.Any
    """The field's type without its annotations (int, float, str, bool, tuple[str, ...], ...)."""
    append: bool = False
    """Repeatable (`--grid a=1 --grid b=2`): each occurrence takes one value."""


def _metadata(hint: typing.Any) -> tuple[typing.Any, tuple[typing.Any, ...]]:
    if typing.get_origin(hint) is typing.Annotated:
        args = typing.get_args(hint)
        return args[0], args[1:]
    return hint, ()


def flags(cls: type) -> dict[str, Flag]:
    """`--field` (nested: `--section.field`) -> Flag, for every field of the dataclass `cls` that is
    not positional. A nested dataclass annotated `tyro.conf.arg(name="")` adds its fields unprefixed."""
    out: dict[str, Flag] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls, include_extras=True)
        for f in dataclasses.fields(cls):
            kind, meta = _metadata(hints[f.name])
            if any(m is tyro.conf.Positional for m in meta):
                continue
            if dataclasses.is_dataclass(kind):
                unprefixed = any(getattr(m, "name", None) == "" for m in meta)
                walk(typing.cast(type, kind), prefix if unprefixed else f"{prefix}{f.name}.")
            else:
                name = "--" + (prefix + f.name).replace("_", "-")
                out[name] = Flag(kind, append=any(m is tyro.conf.UseAppendAction for m in meta))

    walk(cls, "")
    return out


def _item_type(kind: typing.Any) -> typing.Any:
    """The type each value of a flag must parse as (`int | None` -> int, `tuple[float, ...]` -> float)."""
    if typing.get_origin(kind) is tuple:
        kind = typing.get_args(kind)[0]
    options = [k for k in typing.get_args(kind) if k is not type(None)] if typing.get_origin(kind) else [kind]
    return options[0] if len(options) == 1 else str


def check_flags(cls: type, args: list[str], unknown: typing.Callable[[str, dict[str, Flag]], str]) -> list[str]:
    """Check `args` against the flags of `cls`; returns the positional arguments. An unknown flag
    raises ConfigError(flag, unknown(flag, known)); a missing value, several values for a one-value
    flag and a value that is not an int or a float where one is expected raise one line each."""
    known = flags(cls)
    positional, i = [], 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("--"):
            positional.append(a)
            continue
        name = a.split("=", 1)[0]
        head, _, last = name[2:].rpartition(".")
        negated = "--" + (head + "." if head else "") + last[3:] if last.startswith("no-") else None
        if name not in known and not (negated in known and known[negated].kind is bool):
            raise ConfigError(name.lstrip("-"), unknown(name, known))
        flag = known.get(name, Flag(bool))
        if flag.kind is bool:
            continue
        values = [a.split("=", 1)[1]] if "=" in a else []
        several = typing.get_origin(flag.kind) is tuple and not flag.append
        while "=" not in a and i < len(args) and not args[i].startswith("--") and (several or not values):
            values.append(args[i])
            i += 1
        if not values:
            raise ConfigError(name.lstrip("-"), "needs a value")
        item = _item_type(flag.kind)
        for v in values:
            try:
                item(v) if item in (int, float) else None
            except ValueError:
                what = "an integer" if item is int else "a number"
                raise ConfigError(name.lstrip("-"), f"{v!r} is not {what}") from None
    return positional


def similar(name: str, known: typing.Iterable[str]) -> list[str]:
    """The known flags whose last part is the one given (`--lr` -> `--ppo.lr`, `--dqn.lr`, ...)."""
    last = name.rpartition(".")[2].lstrip("-")
    return [f for f in known if f != name and f.rpartition(".")[2].lstrip("-") == last]
