"""Pruning scores by name (`imp.score`, and the fixed scores of pruning-at-init conditions): what
global pruning ranks the surviving weights by.

A score is `score(params, inputs) -> tree` of the params' shape; the highest-scoring surviving
weights are kept. `inputs` holds what the score `needs`, each a registered `ScoreInput` computed from
one batch of the agent's own (`ScoreBatch`: its loss on the batch, the batch's observations, its
networks) at the scored params: the loss's gradient (`grad`), its Hessian-gradient product
(`hessian_grad`), or anything an input of your own computes (register_score_input). A score that
needs nothing (magnitude) draws no batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from ticketlab.core.registry import Registry
from ticketlab.pruning.masks import Tree


@dataclass(frozen=True)
class ScoreBatch:
    """One batch of the agent's own, at the scored params of one run."""

    loss: Callable[[Tree], jax.Array]
    """params -> the agent's loss on the batch (a scalar)."""
    observe: Callable[[], jax.Array] | None = None
    """() -> the batch's observations as the agent's networks see them ([N, *obs_shape]); None when
    the agent does not say."""
    forward: Any = None
    """{module: apply(module params, observations) -> outputs}: the agent's networks (None: unknown)."""


@dataclass(frozen=True)
class ScoreInput:
    name: str
    compute: Callable[[ScoreBatch, Tree, Tree], Any]
    """(ScoreBatch, params, prunable) -> what a score reads (e.g. a tree of the params' shape)."""


@dataclass(frozen=True)
class Score:
    """A pruning score IMP ranks weights by (`--imp.score`): magnitude, snip (|g w|), grasp
    (-w H g), or your own `fn`; `needs` names what it reads from a batch of the agent's own."""

    name: str
    fn: Callable[[Tree, dict[str, Any]], Tree]
    """(params, inputs: {input name: value}) -> scores, a tree of the params' shape."""
    needs: tuple[str, ...] = ()
    """The `ScoreInput`s it reads (each drawn from one batch of the agent's own)."""
    description: str = ""

    @property
    def needs_batch(self) -> bool:
        return bool(self.needs)


SCORES: Registry[Score] = Registry("imp.score")
"""Every score `--imp.score` can name."""
SCORE_INPUTS: Registry[ScoreInput] = Registry("score input")


def register_score(score: Score, *, replace: bool = False) -> Score:
    """Add a pruning score; every input it `needs` must be registered (`register_score_input`)."""
    for name in score.needs:
        SCORE_INPUTS.get(name)  # (a ConfigError naming the inputs that exist)
    return SCORES.register(score.name, score, replace=replace)


def register_score_input(entry: ScoreInput, *, replace: bool = False) -> ScoreInput:
    return SCORE_INPUTS.register(entry.name, entry, replace=replace)


def loss_gradient(batch: ScoreBatch, params: Tree, prunable: Tree) -> Tree:
    """g = dL/dw."""
    return jax.grad(batch.loss)(params)


def hessian_gradient(batch: ScoreBatch, params: Tree, prunable: Tree) -> Tree:
    """H g (forward-over-reverse: the JVP of the gradient along g's prunable leaves, the others'
    tangent zero: GraSP's H_ww g_w, its weight list being the pruned layers' weights)."""
    grad_fn = jax.grad(batch.loss)
    g = grad_fn(params)
    tangent = jax.tree_util.tree_map(lambda x, pr: x if pr else jnp.zeros_like(x), g, prunable)
    return jax.jvp(grad_fn, (params,), (tangent,))[1]


def score_inputs(score: Score, batch: ScoreBatch, params: Tree, prunable: Tree) -> dict[str, Any]:
    """What `score` reads, computed from `batch` at `params` (pure; jit and vmap it)."""
    return {name: SCORE_INPUTS.get(name).compute(batch, params, prunable) for name in score.needs}


register_score_input(ScoreInput("grad", loss_gradient))
register_score_input(ScoreInput("hessian_grad", hessian_gradient))

register_score(
    Score(
        "magnitude",
        lambda params, inputs: jax.tree_util.tree_map(jnp.abs, params),
        description="|w| (Han et al. 2015; the paper's IMP)",
    )
)
register_score(
    Score(
        "snip",
        lambda params, inputs: jax.tree_util.tree_map(lambda w, g: jnp.abs(w * g), params, inputs["grad"]),
        needs=("grad",),
        description="|g * w|, connection sensitivity (Lee et al. 2019)",
    )
)
register_score(
    Score(
        "grasp",
        lambda params, inputs: jax.tree_util.tree_map(lambda w, hg: w * hg, params, inputs["hessian_grad"]),
        needs=("hessian_grad",),
        description="w * Hg (Wang et al. 2020): GraSP removes the largest -w * Hg, so the weights whose "
        "removal reduces the gradient flow most are kept",
    )
)
