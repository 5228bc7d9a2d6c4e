"""The ticket plot: normalized best return against percent of weights remaining, per condition."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.pruning.conditions import style
from ticketlab.reporting.analysis.ticket_stats import normalizer
from ticketlab.reporting.plots.common import by_level, chains, percent_axis, run_spec

__all__ = ["normalizer", "ticket_figure"]


def ticket_figure(rows: list[dict], cfg, ax=None, label_prefix: str = "", intervals=None):
    """Mean normalized best return per condition against percent of weights remaining, with a
    band of one sd over seeds; `intervals` (the `LevelStat`s of `analysis.ticket_stats`) draws
    their mean and 95 % bootstrap CI instead."""
    spec = run_spec(cfg)
    norm = normalizer(rows, spec.return_floor)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for condition, chain in chains(rows).items():
        colour, label = style(condition)
        _, dens, mean, std = by_level(chain, norm)
        x, low, high = 100 * dens, mean - std, mean + std
        own = [s for s in intervals or () if s.condition == condition]
        if own:
            x, mean = np.array([s.percent for s in own]), np.array([s.mean for s in own])
            low, high = np.array([s.low for s in own]), np.array([s.high for s in own])
        ax.plot(x, mean, "-o", color=colour, label=label_prefix + label, ms=3)
        ax.fill_between(x, low, high, color=colour, alpha=0.18, lw=0)
    percent_axis(ax)
    if not norm.raw:
        ax.axhline(1.0, color="black", lw=0.6, ls=":")
    ax.set_ylabel(norm.axis_label(spec.floor_known))
    seeds = len({r["seed"] for r in rows})
    band = "mean, 95% bootstrap CI" if intervals is not None else "mean +- 1 sd"
    ax.set_title(f"{cfg.name}: {spec.id}, {seeds} seeds ({band})", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return fig or ax.figure
