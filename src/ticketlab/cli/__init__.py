"""The command line, `ticketlab <command>` (main.py), its argument parsing (args.py) and `play`."""

from ticketlab.cli.main import main

__all__ = ["main"]
