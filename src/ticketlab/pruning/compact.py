"""A pruned MLP module as the smaller dense network it is: input dimensions with no connection left
and hidden units that feed nothing removed, and hidden units that receive nothing (whose output is
the constant act(bias)) folded into the next layer's bias. Its outputs are the masked network's on
the kept inputs, up to float rounding. Pure numpy: what `ticketlab export` writes and a user loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ticketlab.core.errors import ConfigError

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
}


@dataclass(frozen=True)
class CompactModule:
    layers: list[dict[str, np.ndarray]]
    """Per dense layer, in order: {"kernel": [in, out], "bias": [out]}; the last is the linear output."""
    inputs: np.ndarray
    """The indices of the module's inputs (flattened observation) that are kept, ascending."""
    units: list[np.ndarray]
    """Per hidden layer, the indices of the original units that are kept."""
    extra: dict[str, np.ndarray]
    """Parameters that are not layers (a Gaussian policy's `log_std`), as they are."""


def dense_layers(module: dict[str, Any]) -> list[str]:
    """`dense_0 .. dense_n` of a module, in order; a module with a conv torso is refused."""
    if any(name.startswith("conv_") for name in module):
        raise ConfigError("module", "export supports MLP modules; this one has a conv torso")
    return sorted((n for n in module if n.startswith("dense_")), key=lambda n: int(n.rsplit("_", 1)[1]))


def compact_module(params: dict[str, Any], mask: dict[str, Any], activation: str) -> CompactModule:
    """The compact form of one module (`params` and `mask`: its `dense_i` layers, `{kernel, bias}`)."""
    act = ACTIVATIONS[activation]
    names = dense_layers(params)
    m = [np.asarray(mask[n]["kernel"], bool) for n in names]
    w = [np.where(mk, np.asarray(params[n]["kernel"], np.float64), 0.0) for n, mk in zip(names, m)]
    b = [np.asarray(params[n]["bias"], np.float64).copy() for n in names]
    inputs = np.any(m[0], axis=1)
    kept = [inputs]  # kept[l]: the kept units feeding layer l (kept[0]: the inputs)
    for layer in range(len(names) - 1):  # forward: a unit with no live input is the constant act(bias)
        receives = np.any(m[layer][kept[layer]], axis=0)
        constant = act(b[layer][~receives])
        b[layer + 1] += constant @ w[layer + 1][~receives]
        kept.append(receives)
    kept.append(np.ones(w[-1].shape[1], bool))
    for layer in range(len(names) - 1, 0, -1):  # backward: a unit that feeds no kept unit goes
        kept[layer] &= np.any(m[layer][:, kept[layer + 1]], axis=1)
    kept[0] &= np.any(m[0][:, kept[1]], axis=1)
    layers = [
        {"kernel": w[i][np.ix_(kept[i], kept[i + 1])].astype(np.float32), "bias": b[i][kept[i + 1]].astype(np.float32)}
        for i in range(len(names))
    ]
    extra = {k: np.asarray(v) for k, v in params.items() if not isinstance(v, dict)}
    units = [np.flatnonzero(k) for k in kept[1:-1]]
    return CompactModule(layers=layers, inputs=np.flatnonzero(kept[0]), units=units, extra=extra)


def compact_forward(module: CompactModule, x: np.ndarray, activation: str) -> np.ndarray:
    """The compact network's output on the kept inputs `x[..., module.inputs]` of a flattened
    observation `x` (the network's own output: logits, Q-values or a Gaussian's mean)."""
    act = ACTIVATIONS[activation]
    h = np.asarray(x, np.float32)[..., module.inputs]
    for i, layer in enumerate(module.layers):
        h = h @ layer["kernel"] + layer["bias"]
        if i < len(module.layers) - 1:
            h = act(h)
    return h


def masked_forward(params: dict[str, Any], mask: dict[str, Any], x: np.ndarray, activation: str) -> np.ndarray:
    """The masked module's output, computed as written (the reference `compact_forward` must equal)."""
    act = ACTIVATIONS[activation]
    names = dense_layers(params)
    h = np.asarray(x, np.float64)
    for i, n in enumerate(names):
        h = h @ np.where(np.asarray(mask[n]["kernel"], bool), params[n]["kernel"], 0.0) + np.asarray(params[n]["bias"])
        if i < len(names) - 1:
            h = act(h)
    return h
