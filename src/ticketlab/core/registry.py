"""A name -> entry table with one-line errors, the one mechanism behind every registry of ours
(environments, agents, conditions, init schemes, torsos, pruning scores, distillation losses)."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator
from typing import Generic, TypeVar

from ticketlab.core.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries by name. `field` is the config field that names an entry (for error messages)."""

    def __init__(self, field: str):
        self.field = field
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        if name in self._entries and not replace:
            raise ValueError(f"{self.field}: {name!r} is registered already (pass replace=True to override)")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> T:
        """Remove an entry and return it (tests and interactive sessions undo what they registered)."""
        return self._entries.pop(name)

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise ConfigError(self.field, f"unknown {name!r}; allowed: {', '.join(self._entries)}")
        return self._entries[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self) -> ItemsView[str, T]:
        return self._entries.items()
