"""The ticket plot: normalized best return against percent of weights remaining, per condition."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.envs.registry import RETURN_FLOOR
from ticketlab.plots.common import CONDITION_STYLE, by_level, chains, percent_axis


def normalizer(rows: list[dict], env_name: str):
    """R -> (R - floor) / (dense mean - floor); floor is the env's worst return (0 for Cart-Pole)."""
    floor = RETURN_FLOOR.get(env_name, 0.0)
    dense = [r["best_return"] for r in rows if r["level"] == 0]
    scale = (np.mean(dense) - floor) if dense else 1.0
    scale = scale if scale != 0 else 1.0
    return lambda r: (r["best_return"] - floor) / scale


def ticket_figure(rows: list[dict], cfg, ax=None, label_prefix: str = ""):
    norm = normalizer(rows, cfg.env.name)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for condition, chain in chains(rows).items():
        colour, label = CONDITION_STYLE.get(condition, ("black", condition))
        _, dens, mean, std = by_level(chain, norm)
        x = 100 * dens
        ax.plot(x, mean, "-o", color=colour, label=label_prefix + label, ms=3)
        ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.18, lw=0)
    percent_axis(ax)
    ax.axhline(1.0, color="black", lw=0.6, ls=":")
    ax.set_ylabel("best return / dense mean")
    seeds = len({r["seed"] for r in rows})
    ax.set_title(f"{cfg.name}: {cfg.env.name}, {seeds} seeds (mean +- 1 sd)", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return fig or ax.figure
