"""Per-layer density across levels, one line per prunable layer."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ticketlab.reporting.plots.common import by_level, chains, percent_axis


def layer_density_figure(rows: list[dict], cfg, condition: str = "mask_weights"):
    chain = chains(rows).get(condition) or next(iter(chains(rows).values()))
    layers = [k for k in chain[-1]["layer_density"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for layer in layers:
        _, dens, mean, _ = by_level(chain, lambda r: 100 * r["layer_density"].get(layer, 1.0))
        ax.plot(100 * dens, mean, "-o", ms=3, label=layer)
    percent_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel("layer weights remaining (%)")
    ax.set_title(f"{cfg.name}: per-layer density under {condition}", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return fig
