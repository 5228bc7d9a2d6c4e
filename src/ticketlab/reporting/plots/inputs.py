"""Which input dimensions the ticket keeps: cumulative |W| and kept connections of each named
input in the first actor layer, across levels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.plots.common import by_level, chains, percent_axis, run_spec


def input_styles(n: int):
    """A distinct (colour, line style) per input: tab10 up to 10 inputs, else tab20, and past 20
    the colours repeat with dashed, then dotted lines (Ant has 28 inputs)."""
    palette = plt.cm.tab10 if n <= 10 else plt.cm.tab20
    size = 10 if n <= 10 else 20
    colours = palette(np.arange(n) % size)
    styles = [("-", "--", ":", "-.")[(i // size) % 4] for i in range(n)]
    return colours, styles


def input_dimension_figure(rows: list[dict], cfg, condition: str = "mask_weights", module: str | None = None):
    chain = chains(rows).get(condition) or next(iter(chains(rows).values()))
    module = module or input_module(chain[0])
    n_inputs = len(chain[0]["input_layer"][module]["kept"])
    layer = chain[0]["input_layer"][module].get("layer", "dense_0")
    spec = run_spec(cfg)
    names = spec.channel_names if layer.startswith("conv") else spec.obs_names
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    colours, styles = input_styles(n_inputs)
    for i in range(n_inputs):
        for ax, key in zip(axes, ("magnitude", "kept")):
            _, dens, mean, std = by_level(chain, lambda r: r["input_layer"][module][key][i])
            x = 100 * dens
            ax.plot(x, mean, styles[i], marker="o", ms=3, color=colours[i], label=names[i])
            ax.fill_between(x, mean - std, mean + std, color=colours[i], alpha=0.15, lw=0)
    axes[0].set_ylabel(f"cumulative |W| of {module}/{layer}")
    axes[1].set_ylabel(f"connections kept in {module}/{layer}")
    for ax in axes:
        percent_axis(ax)
    if n_inputs > 12:  # many names: beside the figure, not over the lines
        axes[1].legend(fontsize=7, frameon=False, ncol=1 + n_inputs // 16, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{cfg.name}: input dimensions under {condition} (mean +- 1 sd over seeds)", fontsize=9)
    fig.tight_layout()
    return fig
