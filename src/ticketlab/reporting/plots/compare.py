"""Several runs on one axis: RL against BC (paper figure 2), or network sizes (figure 11), with x
as percent of weights remaining or as the absolute number of remaining weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.agents.registry import AGENTS
from ticketlab.core.config import ExperimentConfig, to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.core.hashing import NOT_HASHED, flatten
from ticketlab.pruning.conditions import style
from ticketlab.reporting.plots.common import by_level, chains, percent_axis, run_spec, save_figure, ticket_rows
from ticketlab.reporting.plots.ticket import normalizer
from ticketlab.store.rundir import load_run_config

LINESTYLES = ("-", "--", ":", "-.")
X_AXES = ("percent", "weights")


def run_label(cfg) -> str:
    """The paradigm and the acting network's widths: `PPO 64,64`, `BC 128,128`, `DQN 128,128`."""
    if not AGENTS.get(cfg.algo).builds_network:  # a training function of your own: no ticketlab network
        return cfg.name
    acting = AGENTS.get(cfg.algo).acting(cfg, run_spec(cfg))
    return f"{cfg.algo.upper()} {','.join(map(str, acting.network.hidden))}"


MAX_LABEL_FIELDS = 3


def differing_fields(cfgs) -> list[str]:
    """The dotted config fields (hashed ones: not name, levels, out) whose values differ among
    `cfgs`, sorted."""
    flat = [flatten(to_dict(cfg)) for cfg in cfgs]
    keys = sorted(set().union(*flat) - set(NOT_HASHED))
    return [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]


def _value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_value(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_labels(cfgs) -> list[str]:
    """One legend label per compared run. When `run_label` already tells the runs apart (RL vs
    BC, network sizes), it; else the config fields in which the runs differ, `field=value`
    (`init.input_scale=0.1`; at most MAX_LABEL_FIELDS, then `+N more`); runs that differ in no
    hashed field keep `run_label`."""
    base = [run_label(cfg) for cfg in cfgs]
    fields = differing_fields(cfgs)
    if len(set(base)) == len(base) or not fields:
        return base
    flat = [flatten(to_dict(cfg)) for cfg in cfgs]
    shown, more = fields[:MAX_LABEL_FIELDS], len(fields) - MAX_LABEL_FIELDS
    return [", ".join(f"{k}={_value(f.get(k))}" for k in shown) + (f", +{more} more" if more > 0 else "") for f in flat]


def compare_figure(
    runs: list[tuple[ExperimentConfig, list[dict]]], conditions: tuple[str, ...], x_axis: str = "percent"
):
    """`runs`: (config, metrics rows) per run; one line style per run, one colour per condition."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    labels = run_labels([cfg for cfg, _ in runs])
    norms = [normalizer(rows, run_spec(cfg).return_floor) for cfg, rows in runs]
    if any(norm.raw for norm in norms):  # one axis: all raw where one run cannot be normalized
        norms = [dataclasses.replace(norm, scale=None) for norm in norms]
    for i, (cfg, rows) in enumerate(runs):
        norm = norms[i]
        for condition, chain in chains(rows).items():
            if condition not in conditions:
                continue
            colour, label = style(condition)
            levels, dens, mean, std = by_level(chain, norm)
            counts = np.array([np.mean([r["remaining_weights"] for r in chain if r["level"] == lv]) for lv in levels])
            x = 100 * dens if x_axis == "percent" else counts
            ls = LINESTYLES[i % len(LINESTYLES)]
            ax.plot(x, mean, ls, marker="o", ms=3, color=colour, label=f"{labels[i]}: {label}")
            ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.12, lw=0)
    if x_axis == "percent":
        percent_axis(ax)
    else:
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("remaining prunable weights")
    known = all(run_spec(cfg).floor_known for cfg, _ in runs)
    if not norms[0].raw:
        ax.axhline(1.0, color="black", lw=0.6, ls=":")
    ax.set_ylabel(norms[0].axis_label(known, " of its run"))
    envs = sorted({run_spec(cfg).id for cfg, _ in runs})
    ax.set_title(f"{', '.join(envs)}: " + " vs ".join(labels), fontsize=9)
    ax.legend(fontsize=6.5, frameon=False)
    return fig


def compare_runs(run_dirs: list[Path], out: Path, conditions: tuple[str, ...], x_axis: str) -> Path:
    if x_axis not in X_AXES:
        raise ConfigError("x", f"unknown {x_axis!r}; allowed: {', '.join(X_AXES)}")
    runs = []
    for run in run_dirs:
        cfg = load_run_config(run)
        rows = ticket_rows(run)
        if not rows:
            raise ConfigError("run", f"{run} has no finished level yet")
        runs.append((cfg, rows))
    return save_figure(compare_figure(runs, conditions, x_axis), out)
