"""The command line, `ticketlab <command>`: what each subcommand takes (options.py), parsing it
(parse.py), the front that parses before anything heavy loads (main.py), the commands (commands.py)
and `play`."""

from ticketlab.cli.main import main

__all__ = ["main"]
