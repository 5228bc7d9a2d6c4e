"""Pruning scores by name (`imp.score`, and the fixed scores of pruning-at-init conditions): what
global pruning ranks the surviving weights by.

A score is `score(params, derivatives) -> tree` of the params' shape; the highest-scoring
surviving weights are kept. `derivatives` is a `Derivatives` of the agent's own loss on one batch
(`Agent.batch_loss`) at the scored params: its gradient for `needs_grads` scores, and also the
Hessian-gradient product for `needs_hessian_grad` ones; the others get an empty one and no batch
is drawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from ticketlab.core.registry import Registry


@dataclass(frozen=True)
class Derivatives:
    """Derivatives of a loss L at the scored params (leaves of the params' shape, or None)."""

    grad: object = None
    """g = dL/dw."""
    hessian_grad: object = None
    """H g, with the gradient's tangent restricted to the prunable leaves (GraSP's H_ww g_w: its
    weight list is the pruned layers' weights)."""


@dataclass(frozen=True)
class Score:
    name: str
    fn: Callable
    """(params, Derivatives) -> scores, a tree of the params' shape."""
    needs_grads: bool = False
    needs_hessian_grad: bool = False
    description: str = ""


SCORES: Registry[Score] = Registry("imp.score")


def register_score(score: Score, *, replace: bool = False) -> Score:
    return SCORES.register(score.name, score, replace=replace)


def loss_derivatives(loss: Callable, params, prunable, hessian: bool) -> Derivatives:
    """g = grad loss(params), and H g when `hessian` (forward-over-reverse: the JVP of the
    gradient along g's prunable leaves, the others' tangent zero). Pure; jit and vmap it."""
    grad_fn = jax.grad(loss)
    g = grad_fn(params)
    if not hessian:
        return Derivatives(grad=g)
    tangent = jax.tree_util.tree_map(lambda x, pr: x if pr else jnp.zeros_like(x), g, prunable)
    _, hg = jax.jvp(grad_fn, (params,), (tangent,))
    return Derivatives(grad=g, hessian_grad=hg)


jax.tree_util.register_pytree_node(
    Derivatives, lambda d: ((d.grad, d.hessian_grad), None), lambda _, c: Derivatives(*c))

register_score(Score(
    "magnitude", lambda params, d: jax.tree_util.tree_map(jnp.abs, params),
    description="|w| (Han et al. 2015; the paper's IMP)"))
register_score(Score(
    "snip", lambda params, d: jax.tree_util.tree_map(lambda w, g: jnp.abs(w * g), params, d.grad),
    needs_grads=True,
    description="|g * w|, connection sensitivity (Lee et al. 2019)"))
register_score(Score(
    "grasp", lambda params, d: jax.tree_util.tree_map(lambda w, hg: w * hg, params, d.hessian_grad),
    needs_grads=True, needs_hessian_grad=True,
    description="w * Hg (Wang et al. 2020): GraSP removes the largest -w * Hg, so the weights whose "
                "removal reduces the gradient flow most are kept"))
