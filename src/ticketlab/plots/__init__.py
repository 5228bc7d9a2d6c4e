"""Figures read only the results store; they never train."""
from __future__ import annotations

from pathlib import Path

from ticketlab.plots.common import save_figure
from ticketlab.plots.inputs import input_dimension_figure
from ticketlab.plots.layers import layer_density_figure
from ticketlab.plots.ticket import ticket_figure

__all__ = ["plot_run", "save_figure"]


def plot_run(run: Path) -> list[Path]:
    """Write every figure of a run (PNG and PDF) under its figures/ directory; return the PNGs."""
    from ticketlab import paths
    from ticketlab.imp.results import load_metrics
    from ticketlab.imp.rundir import load_run_config
    from ticketlab.validate import ConfigError

    cfg = load_run_config(run)
    rows = load_metrics(run)
    if not rows:
        raise ConfigError("run", f"{run} has no finished level yet; run it first")
    out = paths.figures_dir(run)
    written = []
    for name, fig in (
        ("ticket", ticket_figure(rows, cfg)),
        ("input_dimensions", input_dimension_figure(rows, cfg)),
        ("layer_density", layer_density_figure(rows, cfg)),
    ):
        written.append(save_figure(fig, out / name))
    return written
