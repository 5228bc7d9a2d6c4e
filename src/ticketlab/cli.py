"""Command line: `ticketlab run|plot|presets`. Bad input exits 2 with one line, writing nothing."""
from __future__ import annotations

import sys
from pathlib import Path

USAGE = """usage:
  ticketlab run PRESET [--scale demo|paper] [--seeds N] [--levels N] [--init.input-scale X] ...
  ticketlab plot RUN_DIR
  ticketlab presets
`ticketlab run PRESET --help` lists every field with its documentation."""

COMMANDS = ("run", "plot", "presets")


def fail(message: str) -> int:
    print(f"ticketlab: error: {message}", file=sys.stderr)
    return 2


def _pop_scale(args: list[str]) -> tuple[str, list[str]]:
    """Take `--scale X` / `--scale=X` out of args (it picks the preset's seeds and levels)."""
    rest, scale, i = [], "demo", 0
    while i < len(args):
        a = args[i]
        if a == "--scale":
            if i + 1 >= len(args):
                from ticketlab.validate import ConfigError

                raise ConfigError("scale", "needs a value; allowed: demo, paper")
            scale, i = args[i + 1], i + 2
            continue
        if a.startswith("--scale="):
            scale = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return scale, rest


def parse_run_args(args: list[str]):
    """PRESET [--scale S] [tyro flags] -> validated ExperimentConfig."""
    import tyro

    from ticketlab.config import ExperimentConfig
    from ticketlab.presets import PRESETS, preset
    from ticketlab.validate import ConfigError, validate

    if not args or args[0].startswith("-"):
        if args and args[0] in ("-h", "--help"):
            print(USAGE)
            raise SystemExit(0)
        raise ConfigError("preset", f"missing; allowed: {', '.join(PRESETS)}")
    name, rest = args[0], args[1:]
    scale, rest = _pop_scale(rest)
    base = preset(name, scale)
    cfg = tyro.cli(ExperimentConfig, default=base, args=rest, prog=f"ticketlab run {name}")
    return validate(cfg)


def cmd_run(args: list[str]) -> int:
    from ticketlab.imp.driver import run_experiment
    from ticketlab.plots import plot_run
    from ticketlab.progress import LevelProgress, closing_table

    cfg = parse_run_args(args)
    with LevelProgress(cfg) as progress:
        run = run_experiment(cfg, on_level=progress.on_level, argv=["ticketlab", "run", *args])
    figures = plot_run(run)
    closing_table(run, figures)
    return 0


def cmd_plot(args: list[str]) -> int:
    from ticketlab.plots import plot_run
    from ticketlab.validate import ConfigError

    if len(args) != 1:
        raise ConfigError("plot", "takes exactly one run directory, e.g. ticketlab plot runs/cartpole-ppo-<hash>")
    run = Path(args[0])
    if not run.is_dir():
        raise ConfigError("run", f"{run} is not a directory")
    for png in plot_run(run):
        print(png)
        print(png.with_suffix(".pdf"))
    return 0


def cmd_presets(args: list[str]) -> int:
    from ticketlab.presets import describe

    for name, text, scales in describe():
        print(f"{name:16s} {text}  [{scales}]")
    return 0


def main(argv: list[str] | None = None) -> int:
    from ticketlab.validate import ConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command not in COMMANDS:
        return fail(f"command: unknown {command!r}; allowed: {', '.join(COMMANDS)}")
    try:
        return {"run": cmd_run, "plot": cmd_plot, "presets": cmd_presets}[command](args)
    except ConfigError as err:
        return fail(str(err))


if __name__ == "__main__":
    raise SystemExit(main())
