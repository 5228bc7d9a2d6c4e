"""Which parts of a structured observation the ticket keeps (Craftax's map by block type, its
inventory, intrinsics, ...; `EnvSpec.obs_groups`): the first layer's surviving connections summed
over each part, across levels. Left: the fraction of the part's connections kept; right: the part's
share of all the connections the first layer keeps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.plots.common import by_level, chains, percent_axis, run_spec
from ticketlab.reporting.plots.inputs import input_styles

MOST_GROUPS = 20
"""Lines drawn at most: past it, the groups keeping the largest fraction at the sparsest level."""


def group_index(groups: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each group's input indices, groups in their first appearance's order."""
    names = list(dict.fromkeys(groups))
    array = np.asarray(groups)
    return {g: np.flatnonzero(array == g) for g in names}


def group_kept(row: dict, module: str, index: dict[str, np.ndarray]) -> dict[str, float]:
    """Connections the row's first layer keeps from each group's inputs."""
    kept = np.asarray(row["input_layer"][module]["kept"], np.float64)
    return {g: float(kept[i].sum()) for g, i in index.items()}


def group_fractions(rows: list[dict], groups: tuple[str, ...], condition: str = "mask_weights"):
    """(the condition's chain, {group: row -> fraction of the group's first-layer connections the
    row keeps}, {group: row -> the group's share of all the connections the row keeps})."""
    chain = chains(rows).get(condition) or next(iter(chains(rows).values()))
    module = input_module(chain[0])
    index = group_index(groups)
    full = group_kept(min(chain, key=lambda r: r["level"]), module, index)  # level 0: every connection

    def fraction(g):
        return lambda r: group_kept(r, module, index)[g] / max(full[g], 1.0)

    def share(g):
        return lambda r: group_kept(r, module, index)[g] / max(sum(group_kept(r, module, index).values()), 1.0)

    return chain, {g: fraction(g) for g in index}, {g: share(g) for g in index}


def input_group_table(rows: list[dict], groups: tuple[str, ...], condition: str = "mask_weights"):
    """(levels, mean density per level, {group: mean fraction of its connections kept per level})."""
    chain, fraction, _ = group_fractions(rows, groups, condition)
    table = {g: by_level(chain, f) for g, f in fraction.items()}
    levels, dens = next(iter(table.values()))[:2]
    return levels, dens, {g: t[2] for g, t in table.items()}


def input_group_figure(rows: list[dict], cfg, condition: str = "mask_weights"):
    spec = run_spec(cfg)
    chain, fraction, share = group_fractions(rows, spec.obs_groups, condition)
    sparsest = max(chain, key=lambda r: r["level"])["level"]
    last = [r for r in chain if r["level"] == sparsest]
    order = sorted(fraction, key=lambda g: -np.mean([fraction[g](r) for r in last]))
    shown = order[:MOST_GROUPS]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colours, styles = input_styles(len(shown))
    for k, g in enumerate(shown):
        for ax, value in ((axes[0], fraction[g]), (axes[1], share[g])):
            _, dens, mean, std = by_level(chain, value)
            ax.plot(100 * dens, 100 * mean, styles[k], marker="o", ms=3, color=colours[k], label=g)
            ax.fill_between(100 * dens, 100 * (mean - std), 100 * (mean + std), color=colours[k], alpha=0.12, lw=0)
    axes[0].set_ylabel("% of the part's first-layer connections kept")
    axes[1].set_ylabel("% of all first-layer connections kept")
    for ax in axes:
        percent_axis(ax)
    axes[1].legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    more = ""
    if len(order) > len(shown):
        more = f"; the {len(shown)} of {len(order)} parts keeping most at the sparsest level"
    fig.suptitle(f"{cfg.name}: observation parts under {condition} (mean +- 1 sd over seeds{more})", fontsize=9)
    fig.tight_layout()
    return fig
