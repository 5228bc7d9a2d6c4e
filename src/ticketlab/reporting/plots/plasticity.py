"""Plasticity across levels, one line per condition (pruning/plasticity.py): the share of
0.1-dormant units of the policy network's hidden layers, the srank of its last hidden features and
its kernels' L2 norm, each at the best checkpoint."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ticketlab.pruning.conditions import style
from ticketlab.pruning.plasticity import SUMMARIES
from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.plots.common import by_level, chains, percent_axis

PANELS = tuple(SUMMARIES.values())


def measured(rows: list[dict]) -> list[dict]:
    """The rows that carry plasticity metrics (finished, from an agent that measures them)."""
    return [
        r
        for r in rows
        if r.get("status", "ok") == "ok" and input_module(r) in (r.get("plasticity") or {}).get("best", {})
    ]


def plasticity_figure(rows: list[dict], cfg, when: str = "best"):
    rows = measured(rows)
    module = input_module(rows[0])
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.6))
    for condition, chain in chains(rows).items():
        colour, label = style(condition)
        for ax, (_, value) in zip(axes, PANELS):
            _, dens, mean, sd = by_level(chain, lambda r, v=value: v(r["plasticity"][when][module]))
            ax.plot(100 * dens, mean, "-o", ms=3, color=colour, label=label)
            ax.fill_between(100 * dens, mean - sd, mean + sd, color=colour, alpha=0.15, lw=0)
    for ax, (title, _) in zip(axes, PANELS):
        percent_axis(ax)
        ax.set_ylabel(title)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{cfg.name}: plasticity of the {module} network at the best checkpoint (mean +- 1 sd)", fontsize=9)
    fig.tight_layout()
    return fig
