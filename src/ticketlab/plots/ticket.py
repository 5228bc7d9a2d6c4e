"""The ticket plot: normalized best return against percent of weights remaining, per condition."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.plots.common import by_level, chains, percent_axis, run_spec
from ticketlab.pruning.conditions import style


def normalizer(rows: list[dict], floor: float):
    """R -> (R - floor) / (dense mean - floor); floor is the env's worst return (the environment
    registry's fact: 0 for Cart-Pole, -500 for Acrobot)."""
    dense = [r["best_return"] for r in rows if r["level"] == 0]
    scale = (np.mean(dense) - floor) if dense else 1.0
    scale = scale if scale != 0 else 1.0
    return lambda r: (r["best_return"] - floor) / scale


def ticket_figure(rows: list[dict], cfg, ax=None, label_prefix: str = ""):
    spec = run_spec(cfg)
    norm = normalizer(rows, spec.return_floor)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for condition, chain in chains(rows).items():
        colour, label = style(condition)
        _, dens, mean, std = by_level(chain, norm)
        x = 100 * dens
        ax.plot(x, mean, "-o", color=colour, label=label_prefix + label, ms=3)
        ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.18, lw=0)
    percent_axis(ax)
    ax.axhline(1.0, color="black", lw=0.6, ls=":")
    ax.set_ylabel("best return / dense mean")
    seeds = len({r["seed"] for r in rows})
    ax.set_title(f"{cfg.name}: {spec.id}, {seeds} seeds (mean +- 1 sd)", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return fig or ax.figure
