"""Pruning scores by name (`imp.score`): what global pruning ranks the surviving weights by.

A score is `score(params, grads) -> tree` of the params' shape; the highest-scoring surviving
weights are kept. `needs_grads` scores get `grads`, the gradient of the agent's own loss on one
batch at the trained params (`Agent.batch_loss`); the others get None and no batch is drawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from ticketlab.registry import Registry


@dataclass(frozen=True)
class Score:
    name: str
    fn: Callable
    needs_grads: bool = False
    description: str = ""


SCORES: Registry[Score] = Registry("imp.score")


def register_score(score: Score, *, replace: bool = False) -> Score:
    return SCORES.register(score.name, score, replace=replace)


register_score(Score(
    "magnitude", lambda params, grads: jax.tree_util.tree_map(jnp.abs, params),
    description="|w| (Han et al. 2015; the paper's IMP)"))
register_score(Score(
    "snip", lambda params, grads: jax.tree_util.tree_map(lambda w, g: jnp.abs(w * g), params, grads),
    needs_grads=True,
    description="|g * w|, connection sensitivity (Lee et al. 2019) at the trained weights"))
