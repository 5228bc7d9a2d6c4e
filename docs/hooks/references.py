"""mkdocs hook: the CLI reference and the Python API reference written at build time from the code,
so neither can disagree with it. `cli.md`'s marker becomes each subcommand's `--help`, printed by
the same tyro parser the command line uses (cli/parse.py), and `api.md`'s marker becomes one
mkdocstrings entry per public name of `ticketlab` (its `_PUBLIC` table), grouped by module."""

from __future__ import annotations

import contextlib
import io
import os

CLI_MARKER = "<!-- cli-reference -->"
API_MARKER = "<!-- api-reference -->"


def help_text(argv: list[str]) -> str:
    """`ticketlab ARGV --help` as tyro prints it, 100 columns wide."""
    from ticketlab.cli.parse import parse

    out = io.StringIO()
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            parse([*argv, "--help"])
    finally:
        if columns is None:
            os.environ.pop("COLUMNS")
        else:
            os.environ["COLUMNS"] = columns
    return out.getvalue().rstrip()


def cli_reference() -> str:
    from ticketlab.cli.options import COMMANDS

    sections = []
    for name, cls in COMMANDS.items():
        summary = " ".join((cls.__doc__ or "").split())
        sections.append(f"## ticketlab {name}\n\n{summary}\n\n```text\n{help_text([name])}\n```\n")
    sections.append(
        "## ticketlab run PRESET\n\nWith a preset named, every field's default is that preset's value "
        "(here `cartpole-ppo`, demo scale):\n\n"
        f"```text\n{help_text(['run', 'cartpole-ppo'])}\n```\n"
    )
    return "\n".join(sections)


def api_reference() -> str:
    import ticketlab

    by_module: dict[str, list[str]] = {}
    for name, module in ticketlab._PUBLIC.items():
        by_module.setdefault(module, []).append(name)
    sections = []
    for module in sorted(by_module):
        names = "\n\n".join(f"::: {module}.{name}" for name in sorted(by_module[module]))
        sections.append(f"## `{module}`\n\n{names}\n")
    return "\n".join(sections)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if API_MARKER in markdown:
        markdown = markdown.replace(API_MARKER, api_reference())
    return markdown
