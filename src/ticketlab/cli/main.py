"""`ticketlab <command>`: the arguments parse first (cli/parse.py, without JAX), then the command
runs (cli/commands.py). Bad input exits 2 with one line, writing nothing."""

from __future__ import annotations

import os
import sys

from ticketlab.cli.parse import parse
from ticketlab.core.errors import ConfigError, ExpertError
from ticketlab.presets import describe


def fail(message: str) -> int:
    print(f"ticketlab: error: {message}", file=sys.stderr)
    return 2


def presets() -> int:
    """`ticketlab presets`: every preset, one line each (answered without loading JAX)."""
    rows = describe()
    width = max(len(name) for name, _, _ in rows)
    for name, text, scales in rows:
        print(f"{name:{width}s} {text}  [{scales}]")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        try:
            parse(["--help"])
        except SystemExit:
            pass
        return 2
    try:
        parsed = parse(argv)
    except ConfigError as err:
        return fail(str(err))
    if parsed.command == "presets":
        return presets()
    # this process hands blocks to workers on an accelerator: it must not take the device's memory
    # (each worker preallocates its share, runtime/devices.py); JAX reads this when its backend starts
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    # the front imports a command's module (and JAX with it) once its arguments parse
    from ticketlab.cli import commands  # front
    from ticketlab.runtime.workers import WorkerDied  # front

    handlers = {
        "run": lambda: commands.run(parsed.options, parsed.torsos, argv),
        "sweep": lambda: commands.sweep(parsed.options[0], argv),
        "figure": lambda: commands.figure(parsed.options[0], argv),
    }
    try:
        if parsed.command in handlers:
            return handlers[parsed.command]()
        return getattr(commands, parsed.command)(parsed.options[0])
    except ConfigError as err:
        return fail(str(err))
    except (WorkerDied, ExpertError) as err:  # what finished (blocks, an expert's runs) stays on disk
        print(f"ticketlab: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
