"""Per-level summaries of a trained network: densities and what the input layer keeps."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ticketlab.networks.network import first_layer
from ticketlab.pruning.masks import Tree, layer_density, prunable_count, prunable_total


def input_rows(kernel: ArrayLike) -> np.ndarray:
    """A first-layer kernel (or its mask) as [input units, connections]: a dense kernel [inputs,
    units] as it is (flattened inputs), a conv kernel [h, w, in channels, filters] by input channel."""
    k = np.asarray(kernel)
    if k.ndim == 4:
        return np.moveaxis(k, 2, 0).reshape(k.shape[2], -1)
    return k.reshape(-1, k.shape[-1])


def input_layer_summary(params: Tree, mask: Tree) -> dict[str, Any]:
    """For each module's first layer, how many connections of each input survive and their
    cumulative |W| (masked). A dense first layer (`dense_0`, kernel [inputs, units]) is summarized
    per input dimension, in the observation's own flattened order; a conv first layer (`conv_0`,
    kernel [height, width, in channels, filters]) per input channel, since every pixel of a channel
    shares its kernels."""
    out = {}
    for module, layers in params.items():
        if not isinstance(layers, dict):
            continue
        layer = first_layer(layers)
        if layer not in layers:
            continue
        w = input_rows(layers[layer]["kernel"])
        m = input_rows(mask[module][layer]["kernel"]).astype(bool)
        out[module] = {
            "layer": layer,
            "units": int(np.asarray(layers[layer]["kernel"]).shape[-1]),
            "kept": m.sum(axis=1).astype(int).tolist(),
            "magnitude": np.abs(np.where(m, w, 0.0)).sum(axis=1).astype(float).tolist(),
        }
    return out


def input_module(row: dict[str, Any]) -> str:
    """The acting network whose first layer a metrics row's input analyses read: actor (PPO, BC) or
    q (DQN)."""
    layers = row["input_layer"]
    return "actor" if "actor" in layers else next(iter(layers))


def level_summary(best_params: Tree, mask: Tree, prunable: Tree) -> dict[str, Any]:
    kept, total = prunable_count(mask, prunable), prunable_total(mask, prunable)
    return {
        "remaining_weights": kept,
        "prunable_weights": total,
        "density": kept / total,
        "layer_density": layer_density(mask, prunable),
        "input_layer": input_layer_summary(best_params, mask),
    }
