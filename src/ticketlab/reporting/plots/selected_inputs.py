"""Dense agents trained on the inputs a ticket kept (paper figures 5 and 8, bottom): learning
curves of the three arms (mean +- 1 sd over seeds) and a bar of their best returns."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ticketlab.reporting.plots.common import save_figure

ARM_STYLE = {
    "all_inputs": ("#444444", "all inputs"),
    "kept_inputs": ("#d62728", "inputs the ticket kept"),
    "random_inputs": ("#7f7f7f", "as many random inputs"),
}


def kept_label(result: dict) -> str:
    """The kept input set most seeds share, by name (or count), and how many seeds share it."""
    sets = Counter(tuple(r["kept"]) for r in result["runs"] if r["arm"] == "kept_inputs")
    kept, n = sets.most_common(1)[0]
    names = ", ".join(map(str, kept)) if result["input_names"] and len(kept) <= 6 else f"{len(kept)} inputs"
    return f"kept of {result['input_units']}: {names} ({n} of {len(result['seeds'])} seeds)"


def arm_curves(result: dict, arm: str) -> np.ndarray:
    """[seeds, evaluations] evaluation returns of one arm."""
    return np.array([r["eval_returns"] for r in result["runs"] if r["arm"] == arm], dtype=float)


def selected_inputs_figure(result: dict, title: str):
    fig, (curve_ax, bar_ax) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
    for i, arm in enumerate(result["arms"]):
        colour, label = ARM_STYLE[arm]
        curves = arm_curves(result, arm)
        x = result["env_steps"] * np.arange(1, curves.shape[1] + 1) / curves.shape[1]
        mean = curves.mean(axis=0)
        sd = curves.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros_like(mean)
        curve_ax.plot(x, mean, color=colour, label=label)
        curve_ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.15, lw=0)
        best = np.array([r["best_return"] for r in result["runs"] if r["arm"] == arm])
        bar_ax.bar(i, best.mean(), yerr=best.std(ddof=1) if len(best) > 1 else 0, color=colour, alpha=0.8, capsize=3)
        bar_ax.scatter(np.full(len(best), i) + np.linspace(-0.15, 0.15, len(best)), best, s=8, color="black", zorder=3)
    curve_ax.set_xlabel("env steps")
    curve_ax.set_ylabel("evaluation return")
    curve_ax.legend(fontsize=7, frameon=False)
    bar_ax.set_xticks(range(len(result["arms"])))
    bar_ax.set_xticklabels(
        [ARM_STYLE[a][1].replace(" the ticket", "\nthe ticket").replace("many ", "many\n") for a in result["arms"]],
        fontsize=7,
    )
    bar_ax.set_ylabel("best evaluation return")
    fig.suptitle(f"{title}\n{kept_label(result)}; mean +- 1 sd over {len(result['seeds'])} seeds", fontsize=9)
    fig.tight_layout()
    return fig


def plot_selected_inputs(result: dict, out: Path) -> Path:
    """Draw `selected_inputs.png` (+ .pdf) of a study's results into `out`."""
    title = (
        f"{Path(result['run']).name}: dense training on the inputs {result['condition']} kept at level "
        f"{result['level']}"
    )
    return save_figure(selected_inputs_figure(result, title), Path(out) / "selected_inputs")
