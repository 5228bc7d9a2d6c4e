"""Per-level summaries of a trained network: densities and what the input layer keeps."""
from __future__ import annotations

import numpy as np

from ticketlab.networks.network import first_layer
from ticketlab.pruning.masks import layer_density, prunable_count, prunable_total


def input_layer_summary(params, mask) -> dict:
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
        w = np.asarray(layers[layer]["kernel"])
        m = np.asarray(mask[module][layer]["kernel"]).astype(bool)
        if layer.startswith("conv"):
            w, m = np.moveaxis(w, 2, 0).reshape(w.shape[2], -1), np.moveaxis(m, 2, 0).reshape(m.shape[2], -1)
        else:
            w, m = w.reshape(-1, w.shape[-1]), m.reshape(-1, m.shape[-1])
        out[module] = {
            "layer": layer,
            "units": int(np.asarray(layers[layer]["kernel"]).shape[-1]),
            "kept": m.sum(axis=1).astype(int).tolist(),
            "magnitude": np.abs(np.where(m, w, 0.0)).sum(axis=1).astype(float).tolist(),
        }
    return out


def level_summary(best_params, mask, prunable) -> dict:
    kept, total = prunable_count(mask, prunable), prunable_total(mask, prunable)
    return {
        "remaining_weights": kept,
        "prunable_weights": total,
        "density": kept / total,
        "layer_density": layer_density(mask, prunable),
        "input_layer": input_layer_summary(best_params, mask),
    }
