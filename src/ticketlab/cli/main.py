"""Command line: `ticketlab run|sweep|status|expert|compare|plot|presets`. Bad input exits 2 with
one line, writing nothing."""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

import jax

from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.cli.args import USAGE, int_option, options, pop_values
from ticketlab.cli.play import check_playable, play_episode, random_policy, trained_policy
from ticketlab.core.config import canonical_torso, from_dict
from ticketlab.core.errors import ConfigError, ExpertError, check_choice
from ticketlab.envs import atari, mazegrid
from ticketlab.envs.registry import ENVS, FAMILIES, make_env
from ticketlab.envs.render import FORMATS, save_frames
from ticketlab.experiments.configure import parse_run_args, pop_option, split_sweep
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.experiments.experts import train_expert
from ticketlab.experiments.inputs_study import check_study, run_study
from ticketlab.experiments.trackers import Trackers, check_trackers
from ticketlab.experiments.validate import validate
from ticketlab.imp.checkpoints import DEFAULT_EVERY_S
from ticketlab.imp.driver import check_checkpoint_every
from ticketlab.launch.launchers import LAUNCHERS, LaunchOptions
from ticketlab.launch.tasks import expand_grid, make_tasks
from ticketlab.networks.torsos import TORSOS
from ticketlab.presets import PRESETS, SCALES, describe, preset
from ticketlab.pruning.conditions import CONDITIONS
from ticketlab.reporting.html import write_report
from ticketlab.reporting.paper_figures import FIGURES, make_figure
from ticketlab.reporting.plots import plot_run
from ticketlab.reporting.plots.compare import compare_runs
from ticketlab.reporting.plots.selected_inputs import kept_label, plot_selected_inputs
from ticketlab.reporting.progress import LevelProgress, closing_table
from ticketlab.reporting.status import find_runs, format_status, run_status
from ticketlab.runtime.devices import check_devices, default_platform, local_device_count
from ticketlab.runtime.workers import WorkerDied, check_workers
from ticketlab.store import paths
from ticketlab.store.completion import log_event
from ticketlab.store.rundir import check_out, prepare_run_dir

COMMANDS = (
    "run",
    "sweep",
    "status",
    "expert",
    "compare",
    "plot",
    "play",
    "presets",
    "envs",
    "inputs",
    "report",
    "figure",
)


def fail(message: str) -> int:
    print(f"ticketlab: error: {message}", file=sys.stderr)
    return 2


def cmd_run(args: list[str]) -> int:
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    wait = "--wait" in args
    workers, rest = pop_option([a for a in args if a != "--wait"], "--workers", "auto")
    devices, rest = pop_option(rest, "--devices", "all")
    every, rest = pop_option(rest, "--checkpoint-every-s", str(DEFAULT_EVERY_S))
    execution = execution_options(workers, devices, every)
    logs, rest = pop_values(rest, "--log")
    check_trackers(logs)
    configs = [parse_run_args(a) for a in split_sweep(rest)]  # every config valid before any run
    for cfg in configs:
        check_out(cfg.out)
    for cfg in configs:
        trackers = Trackers(logs, paths.run_dir(cfg), cfg, run_spec(cfg).obs_names)

        try:
            with LevelProgress(cfg) as progress:

                def on_level(level, rows, resumed):
                    progress.on_level(level, rows, resumed)
                    trackers.on_level(level, rows, resumed)

                run = run_experiment(
                    cfg, on_level=on_level, argv=["ticketlab", "run", *args], wait=wait, in_process=False, **execution
                )
        finally:
            trackers.close()
        figures = plot_run(run)
        closing_table(run, figures)
    return 0


def execution_options(workers: str, devices: str, every: str) -> dict:
    """`--workers`, `--devices` and `--checkpoint-every-s` checked, as `run`'s keywords."""
    try:
        seconds = float(every)
    except ValueError:
        raise ConfigError("checkpoint-every-s", f"must be a number of seconds >= 0 (0: off), got {every!r}") from None
    check_checkpoint_every(seconds)
    check_devices(devices, local_device_count(), default_platform())
    return {"workers": check_workers(workers), "devices": devices, "checkpoint_every_s": seconds}


def cmd_expert(args: list[str]) -> int:
    positional, opts = options(
        args, {"out": "runs", "threshold": "", "seeds": "4", "steps": "0", "torso": "", "scale": "demo"}, "expert"
    )
    teachers = [
        n for n in PRESETS if AGENTS.get(preset(n).algo).teaches and not AGENTS.get(preset(n).algo).needs_expert
    ]
    if len(positional) != 1 or positional[0] not in teachers:
        raise ConfigError("expert", f"name one RL preset; allowed: {', '.join(teachers)}")
    name = positional[0]
    try:
        threshold = float(opts["threshold"]) if opts["threshold"] else _threshold(PRESETS.get(name).expert_threshold)
        seeds, steps = int(opts["seeds"]), int(opts["steps"])
    except ValueError as err:
        raise ConfigError("threshold/seeds/steps", f"must be numbers ({err})") from None
    if seeds < 1:
        raise ConfigError("seeds", f"must be >= 1, got {seeds}")
    check_choice("scale", opts["scale"], SCALES)
    torso = canonical_torso(opts["torso"])
    if torso:
        check_choice("torso", torso, TORSOS.names())
    try:
        expert = train_expert(
            name, opts["out"], threshold, seeds, steps, torso=torso, scale=opts["scale"], in_process=False
        )
    except ExpertError as err:
        print(f"ticketlab: error: {err}", file=sys.stderr)
        return 1
    state = "trained now" if expert.trained_now else "cached, nothing trained"
    print(
        f"expert {name} ({expert.env}, {','.join(map(str, expert.hidden))} {expert.activation}): "
        f"mean greedy return {expert.mean_return:.1f} [{state}]"
    )
    print(expert.path)
    return 0


def _threshold(value: float | None) -> float:
    return float("-inf") if value is None else value


def cmd_compare(args: list[str]) -> int:
    flags = {"x": "percent", "out": "", "conditions": ["mask_weights", "permuted_permuted"]}
    positional, opts = options(args, flags, "compare")
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


SWEEP_FLAGS = {
    "grid": [],
    "seeds": "",
    "levels": "",
    "scale": "demo",
    "out": "runs",
    "backend": "local",
    "workers": "auto",
    "address": "auto",
    "partition": "",
    "block_seeds": "",
    "retries": "2",
    "cluster": "",
    "devices": "all",
    "checkpoint_every_s": str(DEFAULT_EVERY_S),
    "gpus_per_task": "",
}


def parse_sweep_args(args: list[str]):
    """Every config and option of a sweep, validated before anything is written."""
    positional, opts = options(args, SWEEP_FLAGS, "sweep")
    if not positional:
        raise ConfigError("sweep", "name one or more presets, e.g. ticketlab sweep cartpole-ppo acrobot-ppo")
    launcher = LAUNCHERS.get(opts["backend"])
    execution, retries = (
        execution_options(opts["workers"], opts["devices"], opts["checkpoint_every_s"]),
        int_option(opts, "retries", 0),
    )
    configs = []
    for name in positional:
        base_args = [name, "--scale", opts["scale"], "--out", opts["out"]]
        for flag in ("seeds", "levels", "block_seeds"):
            if opts[flag]:
                base_args += [f"--{flag.replace('_', '-')}", opts[flag]]
        base = parse_run_args(base_args)
        configs.extend(validate_all(expand_grid(base, opts["grid"])))
    check_out(opts["out"])
    launch = LaunchOptions(
        address=opts["address"],
        retries=retries,
        partition=opts["partition"],
        folder=str(Path(opts["out"]) / "submitit"),
        cluster=opts["cluster"] or None,
        gpus_per_task=int_option(opts, "gpus_per_task", 0) if opts["gpus_per_task"] else None,
        **execution,
    )
    launcher.check(launch)
    return make_tasks(configs), opts, launcher, launch


def validate_all(configs):
    return [validate(c) for c in configs]


def cmd_sweep(args: list[str]) -> int:
    tasks, opts, launcher, options = parse_sweep_args(args)
    for config in {json.dumps(t.config, sort_keys=True) for t in tasks}:  # status sees every run at once
        cfg = from_dict(json.loads(config))
        prepare_run_dir(paths.run_dir(cfg), cfg, ["ticketlab", "sweep", *args])
    print(f"sweep: {len(tasks)} tasks on {opts['backend']}")
    done, failed = launcher.run(tasks, options, print)
    for task, error in failed:
        run = paths.run_dir(from_dict(task.config))
        run.mkdir(parents=True, exist_ok=True)
        log_event(run, "task_failed", seeds=list(task.seeds), error=error, backend=opts["backend"])
    runs = sorted({r["run"] for r in done})
    for run in runs:
        print(run)
    if failed:
        print(
            f"ticketlab: {len(failed)} of {len(tasks)} tasks failed; see ticketlab status {opts['out']}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_status(args: list[str]) -> int:
    positional, opts = options([a for a in args if a != "--verify"], {}, "status")

    if len(positional) != 1:
        raise ConfigError("status", "takes one directory: a run or a store root, e.g. ticketlab status runs/")
    for run in find_runs(Path(positional[0])):
        print(format_status(run_status(run, verify="--verify" in args)))
    return 0


def cmd_plot(args: list[str]) -> int:
    if len(args) != 1:
        raise ConfigError("plot", "takes exactly one run directory, e.g. ticketlab plot runs/cartpole-ppo-<hash>")
    run = Path(args[0])
    if not run.is_dir():
        raise ConfigError("run", f"{run} is not a directory")
    for png in plot_run(run):
        print(png)
        print(png.with_suffix(".pdf"))
    return 0


FIGURE_FLAGS = {"scale": "demo", "out": "runs", "only": []}


def cmd_figure(args: list[str]) -> int:
    """`ticketlab figure N`: run what paper figure N needs (resuming), then draw it;
    `ticketlab figure list`: every figure, its panels and the runs they need."""
    positional, opts = options(args, FIGURE_FLAGS, "figure")
    if positional == ["list"]:
        for fig in FIGURES.values():
            print(
                f"figure {fig.number:2d}: {fig.caption}" + (f" [not drawn: {fig.leaves_out}]" if fig.leaves_out else "")
            )
            for panel in fig.panels(opts["scale"]):
                runs = "; ".join(" ".join(r) for r in panel.runs)
                print(f"    {panel.key:22s} {panel.draw:17s} {runs}")
        return 0
    if len(positional) != 1 or not positional[0].isdigit():
        raise ConfigError("figure", f"name one figure number or list; allowed: {', '.join(map(str, FIGURES))}")
    png = make_figure(
        int(positional[0]), opts["scale"], opts["out"], tuple(opts["only"]), argv=["ticketlab", "figure", *args]
    )
    print(f"figure:  {png}  (+ .pdf)")
    return 0


INPUTS_FLAGS = {"level": "", "condition": "mask_weights"}


def cmd_inputs(args: list[str]) -> int:
    """`ticketlab inputs RUN --level L`: dense agents trained on the inputs the ticket kept at
    level L, against all inputs and as many random ones (selected_inputs.py)."""
    positional, opts = options(args, INPUTS_FLAGS, "inputs")
    if len(positional) != 1 or not Path(positional[0]).is_dir():
        raise ConfigError("run", "name one run directory, e.g. ticketlab inputs runs/cartpole-ppo-<hash> --level 6")
    if not opts["level"]:
        raise ConfigError("level", "missing; name the IMP level whose kept inputs to train on, e.g. --level 6")
    study = check_study(Path(positional[0]), int_option(opts, "level", 1), opts["condition"])
    result = run_study(study)
    png = plot_selected_inputs(result, study.dir)
    for arm in result["arms"]:
        best = [r["best_return"] for r in result["runs"] if r["arm"] == arm]
        sd = f" ± {statistics.stdev(best):.1f}" if len(best) > 1 else ""
        print(f"{arm:14s} best return {statistics.mean(best):8.1f}{sd}")
    print(kept_label(result))
    print(f"results: {study.results}")
    print(f"figure:  {png}  (+ .pdf)")
    return 0


def cmd_report(args: list[str]) -> int:
    """`ticketlab report RUN [RUN ...] --out report.html`: one self-contained HTML page of the runs
    (report.py); writes nothing but --out."""
    positional, opts = options(args, {"out": "report.html"}, "report")
    if not positional:
        raise ConfigError(
            "report",
            "name one or more run directories, e.g. ticketlab report runs/cartpole-ppo-<hash> --out report.html",
        )
    print(write_report(positional, opts["out"]))
    return 0


PLAY_FLAGS = {
    "render": "",
    "episodes": "1",
    "encoding": "object-map",
    "key": "0",
    "run": "",
    "level": "0",
    "seed": "0",
    "condition": "mask_weights",
}


def cmd_play(args: list[str]) -> int:
    positional, opts = options(args, PLAY_FLAGS, "play")
    if opts["render"] and Path(opts["render"]).suffix.lower() not in FORMATS:
        raise ConfigError("render", f"unknown file type {Path(opts['render']).suffix!r}; allowed: {', '.join(FORMATS)}")
    episodes, key, level, seed = (int_option(opts, f, 0) for f in ("episodes", "key", "level", "seed"))
    if episodes < 1:
        raise ConfigError("episodes", f"must be >= 1, got {episodes}")
    if opts["condition"] not in CONDITIONS:
        raise ConfigError("condition", f"unknown {opts['condition']!r}; allowed: {', '.join(CONDITIONS)}")
    if opts["run"]:
        run = Path(opts["run"])
        if not run.is_dir():
            raise ConfigError("run", f"{run} is not a directory")
        cfg, spec, policy = trained_policy(run, level, seed, opts["condition"])
        who = f"{cfg.name} level {level} seed {seed}" + (f" {opts['condition']}" if level else " (dense)")
    else:
        if len(positional) != 1:
            raise ConfigError("play", "name one environment (e.g. mazegrid) or give --run RUN_DIR")
        spec = make_env(positional[0], opts["encoding"])
        check_playable(spec)
        policy, who = random_policy(spec), "random agent"
    maze = spec.id == mazegrid.ENV_ID
    if opts["render"] and not maze:
        raise ConfigError("render", f"rendering exists for {mazegrid.ENV_ID}; {spec.id} has no renderer")
    results = [play_episode(jax.random.PRNGKey(key + i), spec, policy) for i in range(episodes)]
    for i, ep in enumerate(results):
        extra = f", coins {ep.coins}, poisons {ep.poisons}" if maze else ""
        print(f"episode {i}: return {ep.ret:g}, steps {ep.steps}{extra}")
    if episodes > 1:
        mean = lambda f: sum(f(e) for e in results) / episodes  # noqa: E731
        extra = f", coins {mean(lambda e: e.coins):.1f}" if maze else ""
        print(f"{who}: mean over {episodes} episodes: return {mean(lambda e: e.ret):.2f}{extra}")
    if opts["render"]:
        print(save_frames(results[0].frames, Path(opts["render"])))
    return 0


def cmd_presets(args: list[str]) -> int:
    rows = describe()
    width = max(len(name) for name, _, _ in rows)
    for name, text, scales in rows:
        print(f"{name:{width}s} {text}  [{scales}]")
    return 0


def cmd_envs(args: list[str]) -> int:
    """Every registered id (its backend and aliases), then every family of ids and its backend."""
    rest = [a for a in args if a != "--atari"]
    if rest:
        raise ConfigError("envs", f"unknown argument {rest[0]!r}; allowed: --atari")
    if "--atari" in args:
        atari.require_ale(atari.PREFIX + "<Game>-v5")
        for env_id, rom in atari.game_ids().items():
            print(f"{env_id}  (ROM {rom})")
        return 0
    width = max(len(name) for name in ENVS.names())
    print("ids (backend, aliases):")
    for name, entry in ENVS.items():
        aliases = f"  = {', '.join(entry.aliases)}" if entry.aliases else ""
        print(f"  {name:{width}s}  {entry.backend:7s}{aliases}")
    print("families (backend):")
    for name, family in FAMILIES.items():
        print(f"  {name}: {family.pattern}  [{family.backend}]")
        ids = family.ids()
        for env_id in ids:
            print(f"    {env_id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    # this process hands blocks to workers on an accelerator: it must not take the device's memory
    # (each worker preallocates its share, runtime/devices.py); JAX reads this when its backend starts
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if command not in COMMANDS:
        return fail(f"command: unknown {command!r}; allowed: {', '.join(COMMANDS)}")
    try:
        handlers = {
            "run": cmd_run,
            "sweep": cmd_sweep,
            "status": cmd_status,
            "expert": cmd_expert,
            "compare": cmd_compare,
            "plot": cmd_plot,
            "play": cmd_play,
            "presets": cmd_presets,
            "envs": cmd_envs,
            "inputs": cmd_inputs,
            "report": cmd_report,
            "figure": cmd_figure,
        }
        return handlers[command](args)
    except ConfigError as err:
        return fail(str(err))
    except WorkerDied as err:  # what the workers finished is on disk; the same command resumes
        print(f"ticketlab: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
