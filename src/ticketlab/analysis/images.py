"""Image observations (channels x height x width): the first layer's kept connections and
cumulative |W| per pixel and per channel. The network flattens an observation in C-order, so input
dimension c * H * W + h * W + w is pixel (h, w) of channel c."""
from __future__ import annotations

import numpy as np


def input_module(row: dict) -> str:
    """The acting network whose first layer the input analyses read: actor (PPO, BC) or q (DQN)."""
    layers = row["input_layer"]
    return "actor" if "actor" in layers else next(iter(layers))


def pixel_maps(row: dict, obs_shape: tuple[int, int, int], module: str | None = None) -> dict[str, np.ndarray]:
    """{"kept": [C, H, W] connections kept, "magnitude": [C, H, W] cumulative masked |W|}."""
    layer = row["input_layer"][module or input_module(row)]
    return {key: np.asarray(layer[key], float).reshape(obs_shape) for key in ("kept", "magnitude")}


def channel_density(row: dict, obs_shape: tuple[int, int, int], module: str | None = None) -> np.ndarray:
    """[C]: the fraction of each channel's first-layer connections still kept."""
    module = module or input_module(row)
    layer = row["input_layer"][module]
    kept = np.asarray(layer["kept"], float).reshape(obs_shape[0], -1)
    units = layer.get("units") or _units_from_density(row, module, kept)
    return kept.sum(axis=1) / (kept.shape[1] * units)


def _units_from_density(row: dict, module: str, kept: np.ndarray) -> float:
    """First-layer width of stores written before `units` was recorded: kept / (inputs x density)."""
    density = row["layer_density"][f"{module}/dense_0/kernel"]
    return kept.sum() / (kept.size * density)


def channel_magnitude(row: dict, obs_shape: tuple[int, int, int], module: str | None = None) -> np.ndarray:
    """[C]: the cumulative masked |W| of each channel's first-layer connections."""
    return pixel_maps(row, obs_shape, module)["magnitude"].reshape(obs_shape[0], -1).sum(axis=1)
