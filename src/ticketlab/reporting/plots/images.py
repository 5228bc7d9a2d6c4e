"""Heatmaps of what the first layer keeps of an image observation: one panel per channel, one row
per chosen level; per-channel density curves. MazeGrid's enemy corridors are outlined."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.analysis.images import channel_density, channel_magnitude, pixel_maps
from ticketlab.reporting.plots.common import by_level, chains, percent_axis


def chosen_levels(levels: list[int], count: int = 4) -> list[int]:
    """Up to `count` levels spread from the dense level to the sparsest, both included."""
    if len(levels) <= count:
        return list(levels)
    picks = np.linspace(0, len(levels) - 1, count).round().astype(int)
    return [levels[i] for i in sorted(set(picks))]


def _mean_maps(rows, image, key):
    return np.mean([pixel_maps(r, image.obs_shape, image.layout)[key] for r in rows], axis=0)


def pixel_heatmap_figure(
    rows: list[dict], cfg, image, key: str = "magnitude", outlines=None, condition: str = "mask_weights"
):
    """`key`: magnitude (cumulative |W|) or kept (connections). `outlines`: optional bool
    [n, H, W] regions drawn on every panel (MazeGrid's enemy corridors). `image`: the
    observation's `ImageInput` (shape, layout, channel names)."""
    channels = image.channels
    chain = chains(rows).get(condition) or next(iter(chains(rows).values()))
    single = len(channels) == 1  # one channel (a greyscale digit): the levels side by side, six of them
    levels = chosen_levels(sorted({r["level"] for r in chain}), 6 if single else 4)
    grid = (1, len(levels)) if single else (len(levels), len(channels))
    size = (1.6 * len(levels) + 1.2, 2.4) if single else (2.1 * len(channels), 1.2 * len(levels) + 0.8)
    fig, axes = plt.subplots(*grid, figsize=size, squeeze=False, layout="constrained")
    maps = {lv: _mean_maps([r for r in chain if r["level"] == lv], image, key) for lv in levels}
    vmax = max(float(m.max()) for m in maps.values()) or 1.0
    for i, lv in enumerate(levels):
        density = np.mean([r["density"] for r in chain if r["level"] == lv])
        for c, name in enumerate(channels):
            ax = axes[0, i] if single else axes[i, c]
            image = ax.imshow(maps[lv][c], cmap="magma", vmin=0.0, vmax=vmax, interpolation="nearest")
            for region in outlines if outlines is not None else ():
                for h, w in np.argwhere(region):
                    ax.add_patch(Rectangle((w - 0.5, h - 0.5), 1, 1, fill=False, ec="#00e5ff", lw=0.6))
            ax.set_xticks([])
            ax.set_yticks([])
            if single:
                ax.set_title(f"level {lv}: {100 * density:.1f}%", fontsize=7)
                continue
            if i == 0:
                ax.set_title(name, fontsize=8)
            if c == 0:
                ax.set_ylabel(f"level {lv}\n{100 * density:.1f}%", fontsize=7)
    label = "cumulative |W|" if key == "magnitude" else "connections kept"
    fig.colorbar(image, ax=axes, shrink=0.6, label=f"{label} (first layer)")
    fig.suptitle(
        f"{cfg.name}: {label} per pixel under {condition} (mean over seeds)"
        + ("; enemy corridors outlined" if outlines is not None else ""),
        fontsize=9,
    )
    return fig


def channel_density_figure(rows: list[dict], cfg, image, condition: str = "mask_weights"):
    """Per channel: the percent of first-layer connections kept (left) and their cumulative |W|."""
    channels, shape, layout = image.channels, image.obs_shape, image.layout
    chain = chains(rows).get(condition) or next(iter(chains(rows).values()))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, value, label in (
        (axes[0], lambda r, c: 100 * channel_density(r, shape, layout)[c], "first-layer connections kept (%)"),
        (axes[1], lambda r, c: channel_magnitude(r, shape, layout)[c], "cumulative |W| (first layer)"),
    ):
        for c, name in enumerate(channels):
            _, dens, mean, std = by_level(chain, lambda r, c=c: value(r, c))
            ax.plot(100 * dens, mean, "-o", ms=3, label=name)
            ax.fill_between(100 * dens, mean - std, mean + std, alpha=0.15, lw=0)
        percent_axis(ax)
        ax.set_yscale("log")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{cfg.name}: input channels under {condition} (mean +- 1 sd over seeds)", fontsize=9)
    fig.tight_layout()
    return fig


def input_profile_figure(rows: list[dict], cfg, condition: str = "mask_weights"):
    """Many flat inputs (e.g. an entangled projection): cumulative |W| per input (x) and level (y)."""
    chain = chains(rows).get(condition) or next(iter(chains(rows).values()))
    levels = sorted({r["level"] for r in chain})
    grid = np.array(
        [
            np.mean([r["input_layer"][input_module(r)]["magnitude"] for r in chain if r["level"] == lv], axis=0)
            for lv in levels
        ]
    )
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(levels) + 1.5))
    image = ax.imshow(grid, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(len(levels)))
    ax.set_yticklabels([str(lv) for lv in levels], fontsize=7)
    ax.set_ylabel("IMP level")
    ax.set_xlabel("input dimension")
    fig.colorbar(image, ax=ax, label="cumulative |W| (first layer)")
    ax.set_title(f"{cfg.name}: first-layer magnitude per input under {condition}", fontsize=9)
    return fig
