"""Errors every layer may raise. A leaf module: it imports nothing of ours."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any


class ConfigError(ValueError):
    """A bad config value: `field` names it (as on the command line), the message gives the
    allowed values. The CLI prints it as one line and exits with status 2."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class MaskError(ConfigError):
    """A training program returned params with a nonzero pruned weight: it does not apply the mask."""


class ExpertError(RuntimeError):
    """A behavioural-cloning expert could not be had: it never reached its threshold."""


def check_choice(field: str, value: object, allowed: Collection[Any]) -> None:
    """ConfigError unless `value` is one of `allowed`."""
    if value not in allowed:
        raise ConfigError(field, f"unknown {value!r}; allowed: {', '.join(map(str, allowed))}")


def check_positive(field: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(field, f"must be > 0, got {value}")


def check_fields_positive(section: str, cfg: object, fields: Iterable[str]) -> None:
    """`check_positive` for several fields of one config section, named as on the command line."""
    for name in fields:
        check_positive(f"{section}.{name.replace('_', '-')}", getattr(cfg, name))
