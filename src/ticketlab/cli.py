"""Command line: `ticketlab run|plot|presets`. Bad input exits 2 with one line, writing nothing."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

USAGE = """usage:
  ticketlab run PRESET [--scale demo|paper] [--seeds N] [--levels N] [--init.input-scale X] ... [--wait]
  ticketlab run cartpole-bc --student.hidden 128,128 256,256     (several sizes: a sweep)
  ticketlab expert RL_PRESET [--out runs] [--threshold X] [--seeds N] [--steps N]
  ticketlab compare RUN_DIR RUN_DIR ... [--x percent|weights] [--conditions C ...] [--out FILE]
  ticketlab sweep PRESET ... [--grid FIELD=V1,V2 ...] [--seeds N] [--levels N] [--scale S]
                  [--backend local|ray|submitit] [--workers N] [--address auto|HOST:PORT]
                  [--partition P] [--block-seeds K] [--retries N] [--out DIR]
  ticketlab status RUNS_OR_RUN_DIR [--verify]
  ticketlab plot RUN_DIR
  ticketlab presets
`ticketlab run PRESET --help` lists every field with its documentation."""

COMMANDS = ("run", "sweep", "status", "expert", "compare", "plot", "presets")
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


def config_flags() -> dict[str, type]:
    """`--init.input-scale` -> float, ... for every field of ExperimentConfig."""
    import dataclasses
    import typing

    from ticketlab.config import ExperimentConfig

    out = {}

    def walk(cls, prefix):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            t = hints[f.name]
            if dataclasses.is_dataclass(t):
                walk(t, f"{prefix}{f.name}.")
            else:
                out["--" + (prefix + f.name).replace("_", "-")] = t
    walk(ExperimentConfig, "")
    return out


def check_flags(args: list[str]) -> None:
    """One-line errors for unknown flags and values of the wrong type (before tyro sees them)."""
    import typing

    from ticketlab.validate import ConfigError

    flags = config_flags()
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise ConfigError("arguments", f"unexpected {a!r}; flags look like --seeds 5 (see --help)")
        name = a.split("=", 1)[0]
        head, _, last = name[2:].rpartition(".")
        positive = "--" + (head + "." if head else "") + last[3:] if last.startswith("no-") else None
        if name not in flags and not (positive and flags.get(positive) is bool):
            close = [f for f in flags if f.split(".")[-1].lstrip("-") == last]
            hint = f"; did you mean {', '.join(close)}?" if close else "; see ticketlab run PRESET --help"
            raise ConfigError(name.lstrip("-"), f"unknown field{hint}")
        values = [a.split("=", 1)[1]] if "=" in a else []
        while "=" not in a and i + 1 < len(args) and not args[i + 1].startswith("--"):
            values.append(args[i + 1])
            i += 1
        i += 1
        kind = flags.get(name, bool)  # a --no-... negation is a bool
        item = typing.get_args(kind)[0] if typing.get_origin(kind) is tuple else kind
        if kind is bool:
            continue
        if not values:
            raise ConfigError(name.lstrip("-"), "needs a value")
        if typing.get_origin(kind) is not tuple and len(values) > 1:
            raise ConfigError(name.lstrip("-"), f"takes one value, got {' '.join(values)}")
        for v in values:
            try:
                item(v) if item in (int, float) else None
            except ValueError:
                raise ConfigError(name.lstrip("-"), f"{v!r} is not {'an integer' if item is int else 'a number'}") from None


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
    if not any(a in ("-h", "--help") for a in rest):
        check_flags(rest)
    cfg = tyro.cli(ExperimentConfig, default=base, args=rest, prog=f"ticketlab run {name}")
    return validate(cfg)


def cmd_run(args: list[str]) -> int:
    from ticketlab.imp.driver import run_experiment
    from ticketlab.plots import plot_run
    from ticketlab.progress import LevelProgress, closing_table

    wait = "--wait" in args
    rest = [a for a in args if a != "--wait"]
    configs = [parse_run_args(a) for a in _split_sweep(rest)]  # every config valid before any run
    for cfg in configs:
        with LevelProgress(cfg) as progress:
            run = run_experiment(cfg, on_level=progress.on_level, argv=["ticketlab", "run", *args], wait=wait)
        figures = plot_run(run)
        closing_table(run, figures)
    return 0


def _options(args: list[str], flags: dict[str, str], command: str) -> tuple[list[str], dict]:
    """Positional args and `--flag value` options; flags whose default is a list take several
    values and may repeat (`--conditions a b`, `--grid x=1,2 --grid y=3`)."""
    from ticketlab.validate import ConfigError

    positional, options, i = [], {k: (list(v) if isinstance(v, list) else v) for k, v in flags.items()}, 0
    given: set[str] = set()
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
            if isinstance(flags[key], list):
                options[key] = (options[key] if key in given else []) + values
            else:
                options[key] = values[0]
                positional.extend(values[1:])
            given.add(key)
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


SWEEP_FLAGS = {"grid": [], "seeds": "", "levels": "", "scale": "demo", "out": "runs", "backend": "local",
               "workers": "1", "address": "auto", "partition": "", "block_seeds": "0", "retries": "2",
               "cluster": ""}


def _int_option(opts: dict, name: str, minimum: int) -> int:
    from ticketlab.validate import ConfigError

    try:
        value = int(opts[name])
    except ValueError:
        raise ConfigError(name.replace("_", "-"), f"must be an integer, got {opts[name]!r}") from None
    if value < minimum:
        raise ConfigError(name.replace("_", "-"), f"must be >= {minimum}, got {value}")
    return value


def parse_sweep_args(args: list[str]):
    """Every config and option of a sweep, validated before anything is written."""
    from ticketlab.launch.backends import BACKENDS, check_ray_address
    from ticketlab.launch.tasks import expand_grid, make_tasks
    from ticketlab.validate import ConfigError

    positional, opts = _options(args, SWEEP_FLAGS, "sweep")
    if not positional:
        raise ConfigError("sweep", "name one or more presets, e.g. ticketlab sweep cartpole-ppo acrobot-ppo")
    if opts["backend"] not in BACKENDS:
        raise ConfigError("backend", f"unknown {opts['backend']!r}; allowed: {', '.join(BACKENDS)}")
    workers, block, retries = _int_option(opts, "workers", 1), _int_option(opts, "block_seeds", 0), _int_option(opts, "retries", 0)
    configs = []
    for name in positional:
        base_args = [name, "--scale", opts["scale"], "--out", opts["out"]]
        for flag in ("seeds", "levels"):
            if opts[flag]:
                base_args += [f"--{flag}", opts[flag]]
        base = parse_run_args(base_args)
        configs.extend(validate_all(expand_grid(base, opts["grid"])))
    if opts["backend"] == "ray":
        try:
            import ray
        except ImportError:
            raise ConfigError("backend", "ray needs the ray extra: pip install -e '.[ray]'") from None
        if not ray.is_initialized():  # (a caller may have connected already)
            check_ray_address(opts["address"])
    if opts["backend"] == "submitit":
        try:
            import submitit  # noqa: F401
        except ImportError:
            raise ConfigError("backend", "submitit needs the slurm extra: pip install -e '.[slurm]'") from None
    return make_tasks(configs, block), opts, workers, retries


def validate_all(configs):
    from ticketlab.validate import validate

    return [validate(c) for c in configs]


def cmd_sweep(args: list[str]) -> int:
    from ticketlab import paths
    from ticketlab.config import from_dict
    from ticketlab.imp.completion import log_event
    from ticketlab.launch.backends import launch

    from ticketlab.imp.rundir import prepare_run_dir

    tasks, opts, workers, retries = parse_sweep_args(args)
    for config in {json.dumps(t.config, sort_keys=True) for t in tasks}:  # status sees every run at once
        cfg = from_dict(json.loads(config))
        prepare_run_dir(paths.run_dir(cfg), cfg, ["ticketlab", "sweep", *args])
    print(f"sweep: {len(tasks)} tasks on {opts['backend']}")
    done, failed = launch(tasks, opts["backend"], workers=workers, address=opts["address"], retries=retries,
                          partition=opts["partition"], folder=str(Path(opts["out"]) / "submitit"),
                          cluster=opts["cluster"] or None)
    for task, error in failed:
        run = paths.run_dir(from_dict(task.config))
        run.mkdir(parents=True, exist_ok=True)
        log_event(run, "task_failed", seeds=list(task.seeds), error=error, backend=opts["backend"])
    runs = sorted({r["run"] for r in done})
    for run in runs:
        print(run)
    if failed:
        print(f"ticketlab: {len(failed)} of {len(tasks)} tasks failed; see ticketlab status {opts['out']}", file=sys.stderr)
        return 1
    return 0


def cmd_status(args: list[str]) -> int:
    from ticketlab.status import find_runs, format_status, run_status

    positional, opts = _options([a for a in args if a != "--verify"], {}, "status")
    from ticketlab.validate import ConfigError

    if len(positional) != 1:
        raise ConfigError("status", "takes one directory: a run or a store root, e.g. ticketlab status runs/")
    for run in find_runs(Path(positional[0])):
        print(format_status(run_status(run, verify="--verify" in args)))
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
        handlers = {"run": cmd_run, "sweep": cmd_sweep, "status": cmd_status, "expert": cmd_expert,
                    "compare": cmd_compare, "plot": cmd_plot, "presets": cmd_presets}
        return handlers[command](args)
    except ConfigError as err:
        return fail(str(err))


if __name__ == "__main__":
    raise SystemExit(main())
