"""Every paper figure the toolkit can make, as one command: `ticketlab figure N [--scale S]`
runs what is missing (resuming what exists, reusing finished runs) and draws the figure.

A figure is a list of panels; a panel names the runs it needs (a preset and its flags, as
`ticketlab run` takes them) and how it is drawn: one of a run's own figures (`ticket`,
`input_dimensions`, `pixel_magnitude`, ... as `ticketlab plot` writes them), `compare` (one
condition of several runs on one axis, figure 2's RL against BC), or `selected_inputs` (dense
agents trained on the inputs the ticket kept, at the level `analysis.ticket_stats.selection_level`
picks). Each panel is drawn as its own figure and the panels are tiled into one image, labelled
a, b, c, ..., saved as `<out>/figures/figure_NN.png` (+ .pdf of the same raster).
"""

from __future__ import annotations

import dataclasses
import io
import math
import string
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.core.errors import ConfigError
from ticketlab.experiments.configure import parse_run_args
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.experiments.inputs_study import check_study, run_study
from ticketlab.presets import SCALES
from ticketlab.presets import preset as preset_config
from ticketlab.presets.atari import GAMES as ATARI_GAMES
from ticketlab.presets.continuous import BULLET_TASKS
from ticketlab.reporting.analysis.ticket_stats import selection_level
from ticketlab.reporting.plots import figure_makers, save_figure, ticket_rows
from ticketlab.reporting.plots.common import png_bytes, run_spec
from ticketlab.reporting.plots.compare import compare_figure
from ticketlab.reporting.plots.selected_inputs import selected_inputs_figure
from ticketlab.reporting.progress import LevelProgress
from ticketlab.store import paths
from ticketlab.store.results import load_metrics


@dataclasses.dataclass(frozen=True)
class Panel:
    key: str
    """Short name, for `--only`."""
    draw: str
    """A stem of the run's own figures (`ticket`, `input_dimensions`, `pixel_magnitude`, ...),
    `compare` or `selected_inputs`."""
    runs: tuple[tuple[str, ...], ...]
    """Each: a preset and its flags, as `ticketlab run` takes them (without --scale and --out)."""
    conditions: tuple[str, ...] = ("mask_weights",)
    """`compare`: the conditions drawn of each run."""
    x_axis: str = "percent"
    """`compare`: percent of weights remaining, or the absolute count (`weights`)."""


@dataclasses.dataclass(frozen=True)
class Figure:
    number: int
    caption: str
    panels: Callable[[str], tuple[Panel, ...]]
    """scale -> panels (some flags depend on the scale's training budget)."""
    leaves_out: str = ""
    """What of the paper's figure is not drawn, and why."""


def _bullet(kind: str, *flags: str) -> tuple[Panel, ...]:
    return tuple(Panel(task, "ticket", ((f"{task}-bullet-{kind}", *flags),)) for task in BULLET_TASKS)


MINATAR = ("breakout", "spaceinvaders", "freeway", "asterix")


def _minatar(kind: str) -> tuple[Panel, ...]:
    return tuple(
        Panel(f"{game}-{torso}", "ticket", ((f"{game}-minatar-{kind}", "--network.torso", torso),))
        for torso in ("mlp", "cnn")
        for game in MINATAR
    )


def _input_variants(preset: str) -> tuple[Panel, ...]:
    """Figure 8's three initializations of one task: PyTorch's default, its input layer scaled by
    0.1, Xavier."""
    variants = (
        ("default", ("--init.input-scale", "1.0")),
        ("scaled", ("--init.input-scale", "0.1")),
        ("xavier", ("--init.input-scale", "1.0", "--init.scheme", "xavier-uniform")),
    )
    task = preset.split("-")[0]
    return tuple(Panel(f"{task}-{name}", "input_dimensions", ((preset, *flags),)) for name, flags in variants)


def _scaled(preset: str, scale: str) -> str:
    """The input scale of figure 8's dense training on the kept inputs: the paper's 0.1 at paper
    scale; at demo scale the demo's own, so the demo run serves it."""
    return str(preset_config(preset).init.input_scale if scale == "demo" else 0.1)


def _rewinds(scale: str) -> tuple[str, ...]:
    """Figure 14's rewind points (0, 100k, 400k, 4M of 5M env steps), as shares of the budget."""
    steps = 5_000_000 if scale == "paper" else 300_000
    return tuple(str(int(steps * share)) for share in (0.0, 0.02, 0.08, 0.8))


FOUR_CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit")

SIZES = ("mask_weights", "permuted_permuted")
"""Figures 11 and 12 draw the ticket and permuted/permuted of each network size."""


def _sizes(key: str, preset: str, flag: str, widths: tuple[str, ...]) -> Panel:
    """One network-size panel: `preset` at each of `widths` (a comma list per run), by `flag`."""
    return Panel(key, "compare", tuple((preset, flag, *w.split(",")) for w in widths), SIZES, "weights")


FIGURES: dict[int, Figure] = {
    f.number: f
    for f in (
        Figure(
            1,
            "Representation compression and the ticket's baselines: IMP prunes MNIST's rim pixels and "
            "MazeGrid's enemy channel down to where the enemy can be; the four conditions in PPO and BC "
            "on four PyBullet tasks",
            lambda s: (
                Panel("mnist", "pixel_kept", (("mnist-mlp",),)),
                Panel("mazegrid", "pixel_kept", (("mazegrid-dqn",),)),
                *(
                    Panel(t, "compare", ((f"{t}-bullet-ppo",), (f"{t}-bullet-bc",)), FOUR_CONDITIONS)
                    for t in BULLET_TASKS
                ),
            ),
            leaves_out="the middle column (a diagram of how the four conditions are made, not a result; "
            "docs/concepts.md says it in words)",
        ),
        Figure(
            2,
            "Tickets in RL against behavioural cloning: the ticket (mask/weights) of PPO and of a distilled "
            "student, normalized by each run's dense mean",
            lambda s: (
                Panel("cartpole", "compare", (("cartpole-ppo",), ("cartpole-bc",))),
                Panel("acrobot", "compare", (("acrobot-ppo",), ("acrobot-bc",))),
                *(Panel(t, "compare", ((f"{t}-bullet-ppo",), (f"{t}-bullet-bc",))) for t in BULLET_TASKS),
            ),
        ),
        Figure(
            3,
            "The four conditions in behavioural cloning",
            lambda s: (
                Panel("cartpole", "ticket", (("cartpole-bc",),)),
                Panel("acrobot", "ticket", (("acrobot-bc",),)),
                *_bullet("bc"),
            ),
        ),
        Figure(
            4,
            "The four conditions in on- (PPO; Bullet: actor and critic pruned, Atari: the actor) and off-policy "
            "(DQN) RL",
            lambda s: (
                *_bullet("ppo"),
                Panel("mazegrid", "ticket", (("mazegrid-dqn",),)),
                *(Panel(game, "ticket", ((f"{game}-atari-ppo",),)) for game in ATARI_GAMES),
            ),
        ),
        Figure(
            5,
            "MazeGrid: IMP removes the pixels the task never needs",
            lambda s: (
                Panel("pixels", "pixel_magnitude", (("mazegrid-dqn",),)),
                Panel("channels", "channel_density", (("mazegrid-dqn",),)),
                Panel("layers", "layer_density", (("mazegrid-dqn",),)),
                Panel("selected", "selected_inputs", (("mazegrid-dqn",),)),
            ),
        ),
        Figure(
            6,
            "MinAtar (MLP DQN): which pixels of which channels IMP keeps",
            lambda s: tuple(
                Panel(g, "pixel_magnitude", ((f"{g}-minatar-dqn",),)) for g in ("freeway", "spaceinvaders", "breakout")
            ),
        ),
        Figure(
            7,
            "Continuous control: whole input dimensions removed at moderate sparsity",
            lambda s: tuple(
                Panel(t, "input_dimensions", ((f"{t}-bullet-ppo",),)) for t in ("hopper", "walker2d", "halfcheetah")
            ),
        ),
        Figure(
            8,
            "Cart-Pole and Acrobot: the minimal representations, by initialization, and dense agents trained "
            "on the kept inputs alone",
            lambda s: (
                *_input_variants("cartpole-ppo"),
                *_input_variants("acrobot-ppo"),
                *(
                    Panel(f"{p.split('-')[0]}-selected", "selected_inputs", ((p, "--init.input-scale", _scaled(p, s)),))
                    for p in ("cartpole-ppo", "acrobot-ppo")
                ),
            ),
        ),
        Figure(
            9,
            "MinAtar: the four conditions in Q-value distillation, MLP (top) and CNN (bottom) students",
            lambda s: _minatar("bc"),
        ),
        Figure(10, "MinAtar: the four conditions in DQN, MLP (top) and CNN (bottom) agents", lambda s: _minatar("dqn")),
        Figure(
            11,
            "Network size: the ticket and permuted/permuted against the absolute number of weights left",
            lambda s: (
                _sizes("cartpole-bc", "cartpole-bc", "--student.hidden", ("128,128", "256,256")),
                _sizes("acrobot-bc", "acrobot-bc", "--student.hidden", ("128,64", "256,128", "512,256")),
                _sizes("cartpole-ppo", "cartpole-ppo", "--network.actor-hidden", ("64,64", "128,128")),
                _sizes("acrobot-ppo", "acrobot-ppo", "--network.actor-hidden", ("128,64", "256,128")),
                _sizes("mazegrid-dqn", "mazegrid-dqn", "--network.q-hidden", ("128,128", "256,256")),
            ),
        ),
        Figure(
            12,
            "The other algorithm: PPO on MazeGrid and DQN on Cart-Pole at two network sizes",
            lambda s: (
                _sizes("mazegrid-ppo", "mazegrid-ppo", "--network.actor-hidden", ("128,128", "256,256")),
                _sizes("cartpole-dqn", "cartpole-dqn", "--network.q-hidden", ("64,64", "128,128")),
            ),
        ),
        Figure(
            13,
            "MazeGrid encodings: RGB and an entangled random projection",
            lambda s: (
                Panel("rgb", "ticket", (("mazegrid-dqn", "--env.encoding", "rgb"),)),
                Panel("entangled", "ticket", (("mazegrid-dqn", "--env.encoding", "entangled"),)),
            ),
        ),
        Figure(
            14,
            "MazeGrid DQN: weight decay, dropout and late rewinding",
            lambda s: (
                Panel(
                    "weight-decay", "compare", (("mazegrid-dqn",), ("mazegrid-dqn", "--network.weight-decay", "0.1"))
                ),
                Panel("dropout", "compare", (("mazegrid-dqn",), ("mazegrid-dqn", "--network.dropout", "0.1"))),
                Panel("rewind", "compare", tuple(("mazegrid-dqn", "--imp.rewind-steps", k) for k in _rewinds(s))),
            ),
        ),
        Figure(15, "PyBullet PPO pruning the actor only", lambda s: _bullet("ppo", "--imp.scope", "actor")),
    )
}


def figure(number: int) -> Figure:
    if number not in FIGURES:
        raise ConfigError("figure", f"unknown {number}; allowed: {', '.join(map(str, FIGURES))}")
    return FIGURES[number]


def panels_of(fig: Figure, scale: str, only: tuple[str, ...] = ()) -> tuple[Panel, ...]:
    """The panels to draw: all, or those named by `only` (a one-line error names unknown ones)."""
    if scale not in SCALES:
        raise ConfigError("scale", f"unknown {scale!r}; allowed: {', '.join(SCALES)}")
    panels = fig.panels(scale)
    unknown = [k for k in only if k not in {p.key for p in panels}]
    if unknown:
        raise ConfigError(
            "only", f"figure {fig.number} has no panel {unknown[0]!r}; allowed: {', '.join(p.key for p in panels)}"
        )
    return tuple(p for p in panels if not only or p.key in only)


def panel_configs(panels, scale: str, out: str) -> list:
    """Every distinct config the panels need, validated before anything trains."""
    configs: dict = {}
    for panel in panels:
        for args in panel.runs:
            cfg = parse_run_args([*args, "--scale", scale, "--out", out])
            configs.setdefault(paths.run_dir(cfg), cfg)
    return list(configs.values())


def ensure_runs(configs, argv: list[str], workers: int | None = None) -> None:
    """Run (or resume, or find finished) every config, with the progress bar of `ticketlab run`;
    `workers` as `ticketlab run --workers` (None: every core)."""
    for cfg in configs:
        with LevelProgress(cfg) as progress:
            run_experiment(cfg, on_level=progress.on_level, argv=argv, workers=workers, in_process=workers == 1)


def panel_figure(panel: Panel, scale: str, out: str):
    """The matplotlib figure of one panel, from runs that exist."""
    cfgs = [parse_run_args([*args, "--scale", scale, "--out", out]) for args in panel.runs]
    if panel.draw == "compare":
        return compare_figure([(cfg, ticket_rows(paths.run_dir(cfg))) for cfg in cfgs], panel.conditions, panel.x_axis)
    cfg = cfgs[0]
    rows = ticket_rows(paths.run_dir(cfg)) if panel.draw == "ticket" else load_metrics(paths.run_dir(cfg))
    if panel.draw == "selected_inputs":
        level = selection_level(rows, run_spec(cfg).return_floor)
        note = f"inputs the ticket kept at level {level}"
        if level is None:
            level, note = 1, "inputs the ticket kept at level 1 (it reaches 95 % of dense at no pruned level)"
        study = check_study(paths.run_dir(cfg), level, "mask_weights")
        return selected_inputs_figure(run_study(study), f"{cfg.name}: {note}")
    makers = dict(figure_makers(cfg, rows))
    if panel.draw not in makers:
        raise ConfigError("figure", f"{cfg.name} draws no {panel.draw!r}; it draws: {', '.join(makers)}")
    return makers[panel.draw](rows, cfg)


def rendered(fig) -> np.ndarray:
    """A figure as an RGBA image array (150 dpi), closing it."""
    return plt.imread(io.BytesIO(png_bytes(fig)))


def tile(images: list, keys: list[str], title: str, columns: int = 3):
    """Panels side by side, `columns` per row, each labelled a, b, c, ... and its key."""
    columns = min(columns, len(images))
    rows = math.ceil(len(images) / columns)
    width = max(im.shape[1] for im in images) / 150
    height = max(im.shape[0] for im in images) / 150
    fig, axes = plt.subplots(rows, columns, figsize=(columns * width, rows * height + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, im, letter, key in zip(axes.flat, images, string.ascii_lowercase, keys):
        ax.imshow(im)
        ax.set_title(f"({letter}) {key}", fontsize=9, loc="left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def make_figure(
    number: int,
    scale: str = "demo",
    out: str = "runs",
    only: tuple[str, ...] = (),
    argv: list[str] | None = None,
    workers: int | None = None,
) -> Path:
    """Run what figure `number` needs at `scale` (resuming), draw it; return the PNG path."""
    fig = figure(number)
    panels = panels_of(fig, scale, only)
    ensure_runs(panel_configs(panels, scale, out), argv or ["ticketlab", "figure", str(number)], workers)
    images = [rendered(panel_figure(p, scale, out)) for p in panels]
    title = f"Figure {number} ({scale} scale): {fig.caption}"
    return save_figure(
        tile(images, [p.key for p in panels], title), paths.figures_dir(Path(out)) / f"figure_{number:02d}"
    )
