"""Per-level summaries of a trained network: densities and what the input layer keeps."""
from __future__ import annotations

import numpy as np

from ticketlab.pruning.masks import layer_density, prunable_count, prunable_total


def input_layer_summary(params, mask) -> dict:
    """For each module's first layer (`<module>/dense_0/kernel`, shape [inputs, units]): how many
    connections of each input dimension survive, and their cumulative |W| (masked)."""
    out = {}
    for module, layers in params.items():
        if "dense_0" not in layers:
            continue
        w = np.asarray(layers["dense_0"]["kernel"])
        m = np.asarray(mask[module]["dense_0"]["kernel"]).astype(bool)
        w = w.reshape(-1, w.shape[-1])
        m = m.reshape(-1, m.shape[-1])
        out[module] = {
            "units": int(w.shape[-1]),
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
