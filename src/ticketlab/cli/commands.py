"""What each `ticketlab` subcommand does, given its parsed options (cli/options.py). The front
(cli/main.py) imports this module only once the arguments parse, so `--help` and a mistyped option
answer without loading JAX. Bad input exits 2 with one line, writing nothing."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import jax

from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.cli import options as cli
from ticketlab.cli.play import check_playable, play_episode, random_policy, trained_policy
from ticketlab.core.config import canonical_torso, from_dict
from ticketlab.core.errors import ConfigError, check_choice
from ticketlab.envs import atari, mazegrid
from ticketlab.envs.registry import ENVS, FAMILIES, floor_warning, make_env
from ticketlab.envs.render import FORMATS, save_frames
from ticketlab.experiments.configure import checked, parse_run_args
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.experiments.experts import train_expert
from ticketlab.experiments.export import export_run
from ticketlab.experiments.inputs_study import check_study, run_study
from ticketlab.experiments.trackers import Trackers, check_trackers
from ticketlab.experiments.validate import validate
from ticketlab.imp.driver import check_checkpoint_every
from ticketlab.launch.launchers import LAUNCHERS, LaunchOptions
from ticketlab.launch.tasks import expand_grid, make_tasks
from ticketlab.networks.torsos import TORSOS
from ticketlab.presets import PRESETS, SCALES, preset
from ticketlab.pruning.conditions import CONDITIONS
from ticketlab.reporting import progress
from ticketlab.reporting.html import write_report
from ticketlab.reporting.paper_figures import FIGURES, make_figure
from ticketlab.reporting.plots import plot_run
from ticketlab.reporting.plots.compare import compare_runs
from ticketlab.reporting.plots.selected_inputs import kept_label, plot_selected_inputs
from ticketlab.reporting.progress import TABLES, LevelProgress, closing_table
from ticketlab.reporting.status import find_runs, format_status, run_status
from ticketlab.runtime.devices import check_devices, default_platform, local_device_count
from ticketlab.runtime.workers import check_workers
from ticketlab.store import paths
from ticketlab.store.completion import log_event
from ticketlab.store.rundir import check_out, prepare_run_dir


def run(runs: tuple[cli.Run, ...], torsos: tuple[str | None, ...], argv: list[str]) -> int:
    first = runs[0]
    execution = execution_options(first)
    check_trackers(list(first.log))
    configs = [checked(r.config, torso) for r, torso in zip(runs, torsos)]  # every config valid before any run
    for cfg in configs:
        check_out(cfg.out)
    for cfg in configs:
        warning = floor_warning(run_spec(cfg))
        if warning:
            print(f"ticketlab: warning: {warning}", file=sys.stderr)
        trackers = Trackers(list(first.log), paths.run_dir(cfg), cfg, run_spec(cfg).obs_names)
        try:
            with LevelProgress(cfg) as progress:

                def on_level(level, rows, resumed):
                    progress.on_level(level, rows, resumed)
                    trackers.on_level(level, rows, resumed)

                result = run_experiment(
                    cfg, on_level=on_level, argv=["ticketlab", *argv], wait=first.wait, in_process=False, **execution
                )
        finally:
            trackers.close()
        closing_table(result, plot_run(result))
    return 0


def execution_options(opts: cli.Execution) -> dict:
    """`--workers`, `--devices` and `--checkpoint-every-s` checked, as `run`'s keywords."""
    check_checkpoint_every(opts.checkpoint_every_s)
    check_devices(opts.devices, local_device_count(), default_platform())
    return {
        "workers": check_workers(opts.workers),
        "devices": opts.devices,
        "checkpoint_every_s": opts.checkpoint_every_s,
    }


def expert(opts: cli.Expert) -> int:
    teachers = [
        n for n in PRESETS if AGENTS.get(preset(n).algo).teaches and not AGENTS.get(preset(n).algo).needs_expert
    ]
    if opts.preset not in teachers:
        raise ConfigError("expert", f"name one RL preset; allowed: {', '.join(teachers)}")
    threshold = opts.threshold if opts.threshold is not None else PRESETS.get(opts.preset).expert_threshold
    if opts.seeds < 1:
        raise ConfigError("seeds", f"must be >= 1, got {opts.seeds}")
    if any(w < 1 for w in opts.hidden):
        raise ConfigError("hidden", f"widths must be >= 1, got {opts.hidden}")
    check_choice("scale", opts.scale, SCALES)
    torso = canonical_torso(opts.torso)
    if torso:
        check_choice("torso", torso, TORSOS.names())
    trained = train_expert(
        opts.preset,
        opts.out,
        float("-inf") if threshold is None else threshold,
        opts.seeds,
        opts.steps,
        torso=torso,
        scale=opts.scale,
        hidden=opts.hidden,
        in_process=False,
    )
    state = "trained now" if trained.trained_now else "cached, nothing trained"
    print(
        f"expert {opts.preset} ({trained.env}, {','.join(map(str, trained.hidden))} {trained.activation}): "
        f"mean greedy return {trained.mean_return:.1f} [{state}]"
    )
    print(trained.path)
    return 0


def check_conditions(field: str, names) -> None:
    for c in names:
        if c not in CONDITIONS:
            raise ConfigError(field, f"unknown {c!r}; allowed: {', '.join(CONDITIONS)}")


def run_dirs(names) -> list[Path]:
    runs = [Path(p) for p in names]
    for run in runs:
        if not run.is_dir():
            raise ConfigError("run", f"{run} is not a directory")
    return runs


def compare(opts: cli.Compare) -> int:
    if not opts.runs:
        raise ConfigError("compare", "name one or more run directories, e.g. ticketlab compare runs/a runs/b")
    check_conditions("conditions", opts.conditions)
    runs = run_dirs(opts.runs)
    out = Path(opts.out) if opts.out else runs[0].parent / "comparisons" / "__".join(r.name for r in runs)
    png = compare_runs(runs, out.with_suffix(""), tuple(opts.conditions), opts.x)
    print(png)
    print(png.with_suffix(".pdf"))
    return 0


def sweep_tasks(opts: cli.Sweep):
    """Every config and option of a sweep, validated before anything is written."""
    if not opts.presets:
        raise ConfigError("sweep", "name one or more presets, e.g. ticketlab sweep cartpole-ppo acrobot-ppo")
    launcher = LAUNCHERS.get(opts.backend)
    execution = execution_options(opts)
    if opts.retries < 0:
        raise ConfigError("retries", f"must be >= 0, got {opts.retries}")
    if opts.gpus_per_task is not None and opts.gpus_per_task < 0:
        raise ConfigError("gpus-per-task", f"must be >= 0, got {opts.gpus_per_task}")
    configs: list = []
    for name in opts.presets:
        base_args = [name, "--scale", opts.scale, "--out", opts.out]
        for flag in ("seeds", "levels", "block_seeds"):
            if getattr(opts, flag) is not None:
                base_args += [f"--{flag.replace('_', '-')}", str(getattr(opts, flag))]
        configs.extend(validate(c) for c in expand_grid(parse_run_args(base_args), list(opts.grid)))
    check_out(opts.out)
    launch = LaunchOptions(
        address=opts.address,
        retries=opts.retries,
        partition=opts.partition,
        folder=str(Path(opts.out) / "submitit"),
        cluster=opts.cluster or None,
        gpus_per_task=opts.gpus_per_task,
        **execution,
    )
    launcher.check(launch)
    return make_tasks(configs), launcher, launch


def sweep(opts: cli.Sweep, argv: list[str]) -> int:
    tasks, launcher, launch = sweep_tasks(opts)
    for config in {json.dumps(t.config, sort_keys=True) for t in tasks}:  # status sees every run at once
        cfg = from_dict(json.loads(config))
        prepare_run_dir(paths.run_dir(cfg), cfg, ["ticketlab", *argv])
    print(f"sweep: {len(tasks)} tasks on {opts.backend}")
    done, failed = launcher.run(tasks, launch, print)
    for task, error in failed:
        run = paths.run_dir(from_dict(task.config))
        run.mkdir(parents=True, exist_ok=True)
        log_event(run, "task_failed", seeds=list(task.seeds), error=error, backend=opts.backend)
    for run in sorted({r["run"] for r in done}):
        print(run)
    if failed:
        print(
            f"ticketlab: {len(failed)} of {len(tasks)} tasks failed; see ticketlab status {opts.out}", file=sys.stderr
        )
        return 1
    return 0


def status(opts: cli.Status) -> int:
    if not opts.path:
        raise ConfigError("status", "takes one directory: a run or a store root, e.g. ticketlab status runs/")
    for run in find_runs(Path(opts.path)):
        print(format_status(run_status(run, verify=opts.verify)))
    return 0


def plot(opts: cli.Plot) -> int:
    if not opts.run:
        raise ConfigError("plot", "takes exactly one run directory, e.g. ticketlab plot runs/cartpole-ppo-<hash>")
    run = run_dirs([opts.run])[0]
    if opts.table:
        check_choice("table", opts.table, TABLES)
    for png in plot_run(run):
        print(png)
        print(png.with_suffix(".pdf"))
    if opts.table:
        progress.report(run, opts.table)
    return 0


def figure(opts: cli.Figure, argv: list[str]) -> int:
    """`ticketlab figure N`: run what paper figure N needs (resuming), then draw it;
    `ticketlab figure list`: every figure, its panels and the runs they need."""
    if opts.figure == "list":
        for fig in FIGURES.values():
            print(
                f"figure {fig.number:2d}: {fig.caption}" + (f" [not drawn: {fig.leaves_out}]" if fig.leaves_out else "")
            )
            for panel in fig.panels(opts.scale):
                runs = "; ".join(" ".join(r) for r in panel.runs)
                print(f"    {panel.key:22s} {panel.draw:17s} {runs}")
        return 0
    if not opts.figure.isdigit():
        raise ConfigError("figure", f"name one figure number or list; allowed: {', '.join(map(str, FIGURES))}")
    png = make_figure(int(opts.figure), opts.scale, opts.out, tuple(opts.only), argv=["ticketlab", *argv])
    print(f"figure:  {png}  (+ .pdf)")
    return 0


def inputs(opts: cli.Inputs) -> int:
    """Dense agents trained on the inputs the ticket kept at one level, against all inputs and as
    many random ones (selected_inputs.py)."""
    if not opts.run or not Path(opts.run).is_dir():
        raise ConfigError("run", "name one run directory, e.g. ticketlab inputs runs/cartpole-ppo-<hash> --level 6")
    if opts.level is None:
        raise ConfigError("level", "missing; name the IMP level whose kept inputs to train on, e.g. --level 6")
    if opts.level < 1:
        raise ConfigError("level", f"must be >= 1, got {opts.level}")
    study = check_study(Path(opts.run), opts.level, opts.condition)
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


def report(opts: cli.Report) -> int:
    """One self-contained HTML page of the runs (report.py); writes nothing but --out."""
    if not opts.runs:
        raise ConfigError(
            "report",
            "name one or more run directories, e.g. ticketlab report runs/cartpole-ppo-<hash> --out report.html",
        )
    print(write_report(list(opts.runs), opts.out))
    return 0


def play(opts: cli.Play) -> int:
    if opts.render and Path(opts.render).suffix.lower() not in FORMATS:
        raise ConfigError("render", f"unknown file type {Path(opts.render).suffix!r}; allowed: {', '.join(FORMATS)}")
    for field in ("episodes", "key", "level", "seed"):
        if getattr(opts, field) < 0:
            raise ConfigError(field, f"must be >= 0, got {getattr(opts, field)}")
    if opts.episodes < 1:
        raise ConfigError("episodes", f"must be >= 1, got {opts.episodes}")
    check_conditions("condition", [opts.condition])
    if opts.run:
        run = run_dirs([opts.run])[0]
        cfg, spec, policy = trained_policy(run, opts.level, opts.seed, opts.condition)
        who = f"{cfg.name} level {opts.level} seed {opts.seed}" + (f" {opts.condition}" if opts.level else " (dense)")
    else:
        if not opts.env:
            raise ConfigError("play", "name one environment (e.g. mazegrid) or give --run RUN_DIR")
        spec = make_env(opts.env, opts.encoding)
        check_playable(spec)
        policy, who = random_policy(spec), "random agent"
    maze = spec.id == mazegrid.ENV_ID
    if opts.render and not maze:
        raise ConfigError("render", f"rendering exists for {mazegrid.ENV_ID}; {spec.id} has no renderer")
    results = [play_episode(jax.random.PRNGKey(opts.key + i), spec, policy) for i in range(opts.episodes)]
    for i, ep in enumerate(results):
        extra = f", coins {ep.coins}, poisons {ep.poisons}" if maze else ""
        print(f"episode {i}: return {ep.ret:g}, steps {ep.steps}{extra}")
    if opts.episodes > 1:
        mean = lambda f: sum(f(e) for e in results) / opts.episodes
        extra = f", coins {mean(lambda e: e.coins):.1f}" if maze else ""
        print(f"{who}: mean over {opts.episodes} episodes: return {mean(lambda e: e.ret):.2f}{extra}")
    if opts.render:
        print(save_frames(results[0].frames, Path(opts.render)))
    return 0


def export(opts: cli.Export) -> int:
    """The chain's best params as compact dense networks, one safetensors per module (export.py)."""
    run = run_dirs([opts.run])[0] if opts.run else None
    if run is None:
        raise ConfigError("export", "name one run directory, e.g. ticketlab export runs/cartpole-ppo-<hash> --level 6")
    if opts.level is None:
        raise ConfigError("level", "missing; name the IMP level to export, e.g. --level 6 (0: the dense network)")
    if not opts.out:
        raise ConfigError("out", "missing; name a new directory to write into, e.g. --out ticket-level6")
    check_conditions("condition", [opts.condition])
    for path in export_run(run, opts.level, opts.seed, opts.condition, Path(opts.out)):
        print(path)
    return 0


def envs(opts: cli.Envs) -> int:
    """Every registered id (its backend and aliases), then every family of ids and its backend."""
    if opts.atari:
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
        for env_id in family.ids():
            print(f"    {env_id}")
    return 0
