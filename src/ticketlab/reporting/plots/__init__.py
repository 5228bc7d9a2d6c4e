"""Figures read only the results store; they never train."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from ticketlab.core.errors import ConfigError
from ticketlab.envs import mazegrid
from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.analysis.images import is_conv
from ticketlab.reporting.analysis.mask_overlap import overlap_rows
from ticketlab.reporting.plots import images
from ticketlab.reporting.plots.common import run_spec, save_figure, ticket_rows
from ticketlab.reporting.plots.input_groups import input_group_figure
from ticketlab.reporting.plots.inputs import input_dimension_figure
from ticketlab.reporting.plots.layers import layer_density_figure
from ticketlab.reporting.plots.mask_overlap import mask_overlap_figure
from ticketlab.reporting.plots.plasticity import measured, plasticity_figure
from ticketlab.reporting.plots.ticket import ticket_figure
from ticketlab.store import paths
from ticketlab.store.results import load_metrics
from ticketlab.store.rundir import load_run_config

__all__ = ["plot", "plot_run", "figure_makers", "ticket_rows", "save_figure", "ImageInput"]

STRUCTURED_INPUTS = "structured_inputs"


@dataclass(frozen=True)
class ImageInput:
    """What image figures need to know of an observation: its shape, layout and channel names."""

    obs_shape: tuple[int, ...]
    layout: str
    channels: tuple[str, ...]


def plot(run) -> list[Path]:
    """Write every figure of a run (PNG and PDF, under its figures/); return the PNGs
    (`ticketlab.plot`)."""
    return plot_run(Path(run))


def plot_run(run: Path) -> list[Path]:
    """Write every figure of a run (PNG and PDF) under its figures/ directory; return the PNGs."""
    cfg = load_run_config(run)
    rows = load_metrics(run)
    if not rows:
        raise ConfigError("run", f"{run} has no finished level yet; run it first")
    out = paths.figures_dir(run)
    scored = ticket_rows(run)
    pngs = [
        save_figure(make(scored if name == "ticket" else rows, cfg), out / name)
        for name, make in figure_makers(cfg, rows)
    ]
    overlaps = overlap_rows(run, rows)
    if overlaps:
        pngs.append(save_figure(mask_overlap_figure(overlaps, cfg), out / "mask_overlap"))
    return pngs


def figure_makers(cfg, rows) -> list[tuple[str, Callable[..., Figure]]]:
    """(file stem, make(rows, cfg) -> Figure) of every figure of a run, in `plot_run`'s order."""
    makers = [("ticket", ticket_figure), *_input_figures(cfg, rows), ("layer_density", layer_density_figure)]
    if measured(rows):
        makers.append(("plasticity", plasticity_figure))
    return makers


def _input_figures(cfg, rows):
    """Image inputs: pixel heatmaps (a dense first layer) and channel densities; a few named
    inputs, or a conv first layer's channels: one line each; many flat inputs: a level x input
    heatmap."""
    spec = run_spec(cfg)
    conv = is_conv(rows[0])
    if spec.image_layout is not None:
        image = ImageInput(tuple(spec.obs_shape), spec.image_layout, spec.channel_names)
        figures = [("channel_density", lambda r, c: images.channel_density_figure(r, c, image))]
        if not conv:
            outlines = mazegrid.enemy_corridors() if spec.id == mazegrid.ENV_ID else None
            figures = [
                ("pixel_magnitude", lambda r, c: images.pixel_heatmap_figure(r, c, image, "magnitude", outlines)),
                ("pixel_kept", lambda r, c: images.pixel_heatmap_figure(r, c, image, "kept", outlines)),
            ] + figures
        return tuple(figures)
    groups = (("input_groups", input_group_figure),) if spec.obs_groups and not conv else ()
    if len(rows[0]["input_layer"][input_module(rows[0])]["kept"]) > 32:
        return (("input_profile", images.input_profile_figure), *groups)
    figures = [("input_dimensions", input_dimension_figure)]
    if any(r["condition"] == STRUCTURED_INPUTS for r in rows):  # which whole inputs the structured chain keeps
        figures.append(
            (
                f"input_dimensions_{STRUCTURED_INPUTS}",
                lambda r, c: input_dimension_figure(r, c, condition=STRUCTURED_INPUTS),
            )
        )
    return tuple(figures)
