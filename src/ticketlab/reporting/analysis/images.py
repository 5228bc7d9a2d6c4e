"""Image observations: the first layer's kept connections and cumulative |W| per pixel and per
channel. The observation's layout (CHW or HWC) is the environment registry's fact: a dense first
layer's inputs are in the observation's own flattened order and are moved to channels x height x
width here; a conv first layer is summarized per input channel already."""

from __future__ import annotations

import numpy as np

from ticketlab.pruning.summaries import input_module


def _layer(row: dict, module: str | None) -> dict:
    return row["input_layer"][module or input_module(row)]


def is_conv(row: dict, module: str | None = None) -> bool:
    return _layer(row, module).get("layer", "dense_0").startswith("conv")


def to_chw(values, obs_shape, layout: str) -> np.ndarray:
    """Per-input values in the observation's flattened order -> [C, H, W]."""
    grid = np.asarray(values, float).reshape(obs_shape)
    return grid if layout == "CHW" else np.transpose(grid, (2, 0, 1))


def pixel_maps(row: dict, obs_shape, layout: str, module: str | None = None) -> dict[str, np.ndarray]:
    """{"kept": [C, H, W] connections kept, "magnitude": [C, H, W] cumulative masked |W|} of a dense
    first layer (a conv first layer has no per-pixel weights: see `channel_density`)."""
    layer = _layer(row, module)
    if is_conv(row, module):
        raise ValueError(f"{layer.get('layer')} is a conv layer: its weights are shared across pixels")
    return {key: to_chw(layer[key], obs_shape, layout) for key in ("kept", "magnitude")}


def _per_channel(row: dict, obs_shape, layout: str, key: str, module: str | None) -> np.ndarray:
    layer = _layer(row, module)
    if is_conv(row, module):
        return np.asarray(layer[key], float)
    return to_chw(layer[key], obs_shape, layout).reshape(to_chw(layer[key], obs_shape, layout).shape[0], -1).sum(axis=1)


def channel_density(row: dict, obs_shape, layout: str, module: str | None = None) -> np.ndarray:
    """[C]: the fraction of each channel's first-layer connections still kept."""
    module = module or input_module(row)
    layer = _layer(row, module)
    kept = _per_channel(row, obs_shape, layout, "kept", module)
    if is_conv(row, module):
        name = layer["layer"]
        per_channel = kept.sum() / row["layer_density"][f"{module}/{name}/kernel"] / len(kept)
    else:
        pixels = int(np.prod(obs_shape)) // len(kept)
        per_channel = pixels * (layer.get("units") or _units_from_density(row, module, layer))
    return kept / per_channel


def _units_from_density(row: dict, module: str, layer: dict) -> float:
    """First-layer width of stores written before `units` was recorded: kept / (inputs x density)."""
    kept = np.asarray(layer["kept"], float)
    return kept.sum() / (kept.size * row["layer_density"][f"{module}/dense_0/kernel"])


def channel_magnitude(row: dict, obs_shape, layout: str, module: str | None = None) -> np.ndarray:
    """[C]: the cumulative masked |W| of each channel's first-layer connections."""
    return _per_channel(row, obs_shape, layout, "magnitude", module)
