"""Command line: `ticketlab run|plot|presets`. Bad input exits 2 with one line, writing nothing."""
from __future__ import annotations

import re
import sys
from pathlib import Path

USAGE = """usage:
  ticketlab run PRESET [--scale demo|paper] [--seeds N] [--levels N] [--init.input-scale X] ...
  ticketlab run cartpole-bc --student.hidden 128,128 256,256     (several sizes: a sweep)
  ticketlab expert RL_PRESET [--out runs] [--threshold X] [--seeds N] [--steps N]
  ticketlab compare RUN_DIR RUN_DIR ... [--x percent|weights] [--conditions C ...] [--out FILE]
  ticketlab plot RUN_DIR
  ticketlab presets
`ticketlab run PRESET --help` lists every field with its documentation."""

COMMANDS = ("run", "expert", "compare", "plot", "presets")
WIDTHS = re.compile(r"^\d+(,\d+)*$")


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


def _split_sweep(args: list[str]) -> list[list[str]]:
    """`--student.hidden 128,128 256,256` -> one argument list per size, widths space-separated
    as tyro expects (`--student.hidden 128 128`)."""
    flag = "--student.hidden"
    if flag not in args:
        return [args]
    i = args.index(flag)
    j = i + 1
    while j < len(args) and WIDTHS.match(args[j]):
        j += 1
    sizes = args[i + 1 : j]
    if not sizes:
        from ticketlab.validate import ConfigError

        raise ConfigError("student.hidden", "needs comma-separated widths, e.g. --student.hidden 256,128")
    if len(sizes) > 1 and all("," not in s for s in sizes):
        sizes = [",".join(sizes)]  # tyro's own spelling: --student.hidden 256 128
    return [args[:i] + [flag, *size.split(",")] + args[j:] for size in sizes]


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
    argsets = _split_sweep(args)
    if len(argsets) > 1:
        raise ConfigError("student.hidden", "several sizes make a sweep; run them with ticketlab run")
    name, rest = argsets[0][0], argsets[0][1:]
    scale, rest = _pop_scale(rest)
    base = preset(name, scale)
    cfg = tyro.cli(ExperimentConfig, default=base, args=rest, prog=f"ticketlab run {name}")
    return validate(cfg)


def cmd_run(args: list[str]) -> int:
    from ticketlab.imp.driver import run_experiment
    from ticketlab.plots import plot_run
    from ticketlab.progress import LevelProgress, closing_table

    configs = [parse_run_args(a) for a in _split_sweep(args)]  # every config valid before any run
    for cfg in configs:
        with LevelProgress(cfg) as progress:
            run = run_experiment(cfg, on_level=progress.on_level, argv=["ticketlab", "run", *args])
        figures = plot_run(run)
        closing_table(run, figures)
    return 0


def _options(args: list[str], flags: dict[str, str], command: str) -> tuple[list[str], dict]:
    """Positional args and `--flag value` options (values may repeat for `conditions`)."""
    from ticketlab.validate import ConfigError

    positional, options, i = [], dict(flags), 0
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
            options[key] = values if key == "conditions" else values[0]
            if key != "conditions" and len(values) > 1:
                positional.extend(values[1:])
        else:
            positional.append(a)
        i += 1
    return positional, options


def cmd_expert(args: list[str]) -> int:
    from ticketlab.agents.experts import EXPERT_THRESHOLDS, ExpertError, get_expert
    from ticketlab.validate import ConfigError

    positional, opts = _options(args, {"out": "runs", "threshold": "", "seeds": "4", "steps": "0"}, "expert")
    if len(positional) != 1 or positional[0] not in EXPERT_THRESHOLDS:
        raise ConfigError("expert", f"name one RL preset; allowed: {', '.join(EXPERT_THRESHOLDS)}")
    name = positional[0]
    try:
        threshold = float(opts["threshold"]) if opts["threshold"] else EXPERT_THRESHOLDS[name]
        seeds, steps = int(opts["seeds"]), int(opts["steps"])
    except ValueError as err:
        raise ConfigError("threshold/seeds/steps", f"must be numbers ({err})") from None
    if seeds < 1:
        raise ConfigError("seeds", f"must be >= 1, got {seeds}")
    try:
        expert = get_expert(name, opts["out"], threshold, seeds, steps)
    except ExpertError as err:
        print(f"ticketlab: error: {err}", file=sys.stderr)
        return 1
    state = "trained now" if expert.trained_now else "cached, nothing trained"
    print(f"expert {name} ({expert.env}, {','.join(map(str, expert.hidden))} {expert.activation}): "
          f"mean greedy return {expert.mean_return:.1f} [{state}]")
    print(expert.path)
    return 0


def cmd_compare(args: list[str]) -> int:
    from ticketlab.plots.compare import compare_runs
    from ticketlab.pruning.conditions import CONDITIONS
    from ticketlab.validate import ConfigError

    flags = {"x": "percent", "out": "", "conditions": ["mask_weights", "permuted_permuted"]}
    positional, opts = _options(args, flags, "compare")
    if not positional:
        raise ConfigError("compare", "name one or more run directories, e.g. ticketlab compare runs/a runs/b")
    for c in opts["conditions"]:
        if c not in CONDITIONS:
            raise ConfigError("conditions", f"unknown {c!r}; allowed: {', '.join(CONDITIONS)}")
    runs = [Path(p) for p in positional]
    for run in runs:
        if not run.is_dir():
            raise ConfigError("run", f"{run} is not a directory")
    out = Path(opts["out"]) if opts["out"] else runs[0].parent / "comparisons" / "__".join(r.name for r in runs)
    png = compare_runs(runs, out.with_suffix(""), tuple(opts["conditions"]), opts["x"])
    print(png)
    print(png.with_suffix(".pdf"))
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
        handlers = {"run": cmd_run, "expert": cmd_expert, "compare": cmd_compare, "plot": cmd_plot, "presets": cmd_presets}
        return handlers[command](args)
    except ConfigError as err:
        return fail(str(err))


if __name__ == "__main__":
    raise SystemExit(main())
