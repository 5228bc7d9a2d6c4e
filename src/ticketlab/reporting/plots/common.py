"""Shared plotting helpers: grouping, axes, atomic figure saves (condition colours are the
condition registry's)."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["axes.formatter.useoffset"] = False  # ticks read as values, never "1e-6+1"
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ticketlab.agents.registry import run_spec  # noqa: E402,F401  (a run's floor, observation names, image layout)
from ticketlab.pruning.conditions import CONDITIONS  # noqa: E402
from ticketlab.reporting.analysis.ticket_stats import finished_seeds, with_failures  # noqa: E402
from ticketlab.store.files import atomic_write  # noqa: E402
from ticketlab.store.results import load_metrics  # noqa: E402
from ticketlab.store.rundir import load_run_config  # noqa: E402


def chains(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows per condition, each chain starting with the shared dense level 0."""
    dense = [r for r in rows if r["condition"] == "dense"]
    out = defaultdict(list)
    for r in rows:
        if r["condition"] != "dense":
            out[r["condition"]].append(r)
    order = {name: i for i, name in enumerate(CONDITIONS.names())}  # legends in the registry's order
    ordered = sorted(out, key=lambda c: (order.get(c, len(order)), c))
    return {c: dense + sorted(out[c], key=lambda r: r["level"]) for c in ordered} or ({"dense": dense} if dense else {})


def ticket_rows(run: Path) -> list[dict]:
    """The rows that return figures draw: every finished run, and a failed chain scoring the
    floor return at its level and at every later one its seed finished (never dropped from the
    means; analysis/ticket_stats.py)."""
    floor = run_spec(load_run_config(run)).return_floor
    return with_failures(load_metrics(run, include_failed=True), finished_seeds(run), floor)


def by_level(rows: list[dict], value) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(levels, mean density, mean value, sd value) over seeds for each level (sample sd,
    ddof = 1; 0 for a single seed)."""
    groups = defaultdict(list)
    for r in rows:
        groups[r["level"]].append(r)
    levels = np.array(sorted(groups))
    dens = np.array([np.mean([r["density"] for r in groups[lv]]) for lv in levels])
    vals = [[value(r) for r in groups[lv]] for lv in levels]
    return (
        levels,
        dens,
        np.array([np.mean(v) for v in vals]),
        np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in vals]),
    )


def save_figure(fig, stem: Path) -> Path:
    """Save `stem`.png and `stem`.pdf atomically; return the PNG path."""
    stem = Path(stem)
    for ext in ("pdf", "png"):
        atomic_write(
            stem.with_suffix(f".{ext}"), lambda tmp: fig.savefig(tmp, dpi=150, bbox_inches="tight", format=ext)
        )
    plt.close(fig)
    return stem.with_suffix(".png")


def png_bytes(fig, dpi: int = 150) -> bytes:
    """A figure rendered to PNG in memory (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


MAX_PERCENT_TICKS = 9


def percent_ticks(percents) -> list[float]:
    """The plotted levels' own percentages (rounded to 3 significant digits), at most
    MAX_PERCENT_TICKS of them: every k-th from 100 down, ending at the sparsest (which replaces
    the last k-th one when the two would crowd each other, closer than a factor 1.5)."""
    ticks = sorted({float(f"{p:.3g}") for p in percents if p > 0}, reverse=True) or [100.0]
    kept = ticks[:: -(-len(ticks) // MAX_PERCENT_TICKS)]
    if kept[-1] != ticks[-1]:
        crowded = kept[-1] / ticks[-1] < 1.5 or len(kept) == MAX_PERCENT_TICKS
        kept = (kept[:-1] if crowded else kept) + [ticks[-1]]
    return kept


def percent_axis(ax) -> None:
    """x: percent of prunable weights remaining, log scale, from 100 down to the sparsest, ticked
    at the levels the axes show (data lines only; reference lines such as axhline are ignored)."""
    percents = [x for line in ax.get_lines() if line.get_transform() == ax.transData for x in line.get_xdata()]
    ax.set_xscale("log")
    ax.invert_xaxis()
    ticks = percent_ticks(percents)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("weights remaining (%)")
