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
    for name, make in (("ticket", ticket_figure), *_input_figures(cfg, rows), ("layer_density", layer_density_figure)):
        written.append(save_figure(make(rows, cfg), out / name))
    return written


def _input_figures(cfg, rows):
    """Image inputs: pixel heatmaps and channel densities; a few named inputs: one line each;
    many flat inputs: a level x input heatmap."""
    from ticketlab.analysis.images import input_module
    from ticketlab.envs import mazegrid
    from ticketlab.envs.registry import MAZEGRID, image_channels, make_env
    from ticketlab.plots import images

    spec = make_env(cfg.env.name, cfg.env.encoding)
    channels = image_channels(spec)
    if channels is not None:
        shape = spec.obs_shape
        outlines = mazegrid.enemy_corridors() if spec.env.name == MAZEGRID else None
        return (
            ("pixel_magnitude", lambda r, c: images.pixel_heatmap_figure(r, c, shape, channels, "magnitude", outlines)),
            ("pixel_kept", lambda r, c: images.pixel_heatmap_figure(r, c, shape, channels, "kept", outlines)),
            ("channel_density", lambda r, c: images.channel_density_figure(r, c, shape, channels)),
        )
    if len(rows[0]["input_layer"][input_module(rows[0])]["kept"]) > 32:
        return (("input_profile", images.input_profile_figure),)
    return (("input_dimensions", input_dimension_figure),)
