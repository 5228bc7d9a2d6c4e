"""Mask overlap across levels (reporting/analysis/mask_overlap.py): left, between the seeds of each
condition; right, each condition against the ticket of the same seed; the dotted line is two
independent random masks of that density."""

from __future__ import annotations

from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.pruning.conditions import style
from ticketlab.reporting.analysis.mask_overlap import ALL, chance
from ticketlab.reporting.plots.common import percent_axis


def mask_overlap_figure(overlaps: list[dict], cfg):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, kind, title in zip(axes, ("seeds", "ticket"), ("between seeds", "against the ticket (same seed)")):
        lines = defaultdict(list)
        for o in overlaps:
            if o["kind"] == kind and o["layer"] == ALL:
                lines[o["condition"]].append((o["density"], o["jaccard"]))
        densities = sorted({d for points in lines.values() for d, _ in points})
        for condition, points in lines.items():
            colour, label = style(condition)
            d, j = np.array(sorted(points)).T
            ax.plot(100 * d, j, "-o", ms=3, color=colour, label=label)
        if densities:
            ax.plot(
                [100 * d for d in densities], [chance(d) for d in densities], ":", color="black", label="random masks"
            )
        percent_axis(ax)
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel("Jaccard overlap of the masks")
    next(ax for ax in axes if ax.lines).legend(fontsize=7, frameon=False)
    fig.suptitle(f"{cfg.name}: how alike the masks are (all prunable layers of the policy network)", fontsize=9)
    fig.tight_layout()
    return fig
