"""Plasticity metrics of a (masked) network on a batch of its own inputs, the measures of
Obando-Ceron et al. 2024 and Sokar et al. 2023:

- tau-dormant units (ReDo; dopamine `labs/redo`): unit i of a hidden layer scores
  s_i = E|h_i(x)| / (mean over the layer's units of E|h_k(x)|) on the batch, post-activation; it is
  dormant if s_i <= tau. Reported as the fraction of dormant units per hidden layer, tau 0 and 0.1;
- srank (Kumar et al. 2021): of the last hidden layer's features Phi [batch, units], with singular
  values sigma sorted descending, min{k : sum_{i<=k} sigma_i >= (1 - delta) sum_i sigma_i}, delta 0.01;
- the L2 (Frobenius) norm of each layer's kernel.

Pure jnp over an MLP module's `dense_i` layers (a conv torso's module is skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ticketlab.pruning.masks import Tree

TAUS = (0.0, 0.1)
SRANK_DELTA = 0.01


SUMMARIES: dict[str, tuple[str, Callable[[dict[str, Any]], float]]] = {
    "dormant": (
        "dormant units, tau 0.1 (%)",
        lambda m: 100 * float(sum(m["dormant_0.1"].values()) / len(m["dormant_0.1"])),
    ),
    "srank": ("srank of the last hidden layer", lambda m: float(m["srank"])),
    "norm": ("kernel L2 norm", lambda m: float(sum(v**2 for v in m["norm"].values()) ** 0.5)),
}
"""One number per module's stored metrics (metrics.json), by name: (its title, how it is read)."""


def mlp_layers(module: Any) -> list[str]:
    """`dense_0 .. dense_n` of an MLP module, in order ([] for a module with a conv torso, or a
    parameter that is not a module)."""
    if not isinstance(module, dict) or any(name.startswith("conv_") for name in module):
        return []
    return sorted((n for n in module if n.startswith("dense_")), key=lambda n: int(n.rsplit("_", 1)[1]))


def hidden_activations(module: dict[str, Any], x: jax.Array, act: Callable[[jax.Array], jax.Array]) -> list[jax.Array]:
    """The post-activation outputs [batch, units] of each hidden layer (every dense layer but the last)."""
    names = mlp_layers(module)
    h = x.reshape(x.shape[0], -1).astype(jnp.float32)
    out = []
    for name in names[:-1]:
        h = act(h @ module[name]["kernel"] + module[name]["bias"])
        out.append(h)
    return out


def dormant_fraction(h: jax.Array, tau: float) -> jax.Array:
    """The fraction of units of `h` [batch, units] whose ReDo score is <= tau."""
    mean_abs = jnp.mean(jnp.abs(h), axis=0)
    score = mean_abs / (jnp.mean(mean_abs) + 1e-9)
    return jnp.mean(score <= tau)


def srank(features: jax.Array, delta: float = SRANK_DELTA) -> jax.Array:
    """Kumar et al.'s effective rank of `features` [batch, units]."""
    sigma = jnp.linalg.svd(features, compute_uv=False)  # descending
    cumulative = jnp.cumsum(sigma)
    return jnp.searchsorted(cumulative, (1.0 - delta) * cumulative[-1], side="left") + 1


def plasticity(params: Tree, x_of: dict[str, jax.Array], act: Callable[[jax.Array], jax.Array]) -> dict[str, Any]:
    """Per MLP module of `params` (masked), on its batch `x_of[module]`: dormant fractions per hidden
    layer at each tau, the srank of the last hidden layer's features, and each layer's kernel norm."""
    out: dict[str, Any] = {}
    for module, x in x_of.items():
        layers = mlp_layers(params[module])
        if not layers:
            continue
        hidden = hidden_activations(params[module], x, act)
        out[module] = {
            **{f"dormant_{tau:g}": {n: dormant_fraction(h, tau) for n, h in zip(layers, hidden)} for tau in TAUS},
            "srank": srank(hidden[-1]) if hidden else jnp.int32(0),
            "norm": {n: jnp.linalg.norm(params[module][n]["kernel"]) for n in layers},
        }
    return out
