"""Global pruning: remove the lowest-scoring (by default smallest |w|) surviving prunable weights
across all layers.

The count removed is exact: ceil(fraction * surviving) as in open_lth (the default), or
round(fraction * surviving), Python's round half to even, as PyTorch's pruning utilities (the
paper's) count it (`torch/nn/utils/prune.py`, `_compute_nparams_toprune`). Ties are broken by the
weight's position in the flattened, concatenated prunable leaves (earlier goes first).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from ticketlab.core.registry import Registry
from ticketlab.pruning.masks import Tree, flatten_like

PRUNE_COUNTS: Registry[Callable[[float], int]] = Registry("imp.prune-count")
PRUNE_COUNTS.register("ceil", math.ceil)
"""open_lth: never prunes less than the fraction."""
PRUNE_COUNTS.register("round", round)
"""PyTorch's pruning utilities (the paper's): round half to even."""


def prune_count(surviving: int, fraction: float, rounding: str = "ceil") -> int:
    """How many of `surviving` weights one pruning step removes."""
    return int(PRUNE_COUNTS.get(rounding)(fraction * surviving))


def count_after_levels(total: int, fraction: float, level: int, rounding: str = "ceil") -> int:
    """Surviving prunable weights after `level` pruning steps from a dense `total`."""
    count = total
    for _ in range(level):
        count -= prune_count(count, fraction, rounding)
    return count


def keep_largest(scores: jax.Array, keep: jax.Array | int) -> jax.Array:
    """Bool vector, True for the `keep` entries with the largest scores (ties: later index kept).

    Equivalently, the `len(scores) - keep` smallest scores are dropped, earlier index first.
    """
    order = jnp.argsort(scores, stable=True)
    ranks = jnp.zeros(scores.shape[0], jnp.int32).at[order].set(jnp.arange(scores.shape[0], dtype=jnp.int32))
    return ranks >= scores.shape[0] - keep


def global_magnitude_mask(params: Tree, mask: Tree, prunable: Tree, keep: jax.Array | int) -> Tree:
    """The next mask: keep the `keep` largest-|w| surviving prunable weights, over all layers."""
    return global_score_mask(jax.tree_util.tree_map(jnp.abs, params), mask, prunable, keep)


def global_score_mask(scores: Tree, mask: Tree, prunable: Tree, keep: jax.Array | int) -> Tree:
    """The next mask: keep the `keep` highest-scoring surviving prunable weights, over all layers.

    `prunable` is a pytree of Python bools (static); non-prunable leaves keep their mask. Weights
    already pruned score -inf, so they stay pruned as long as `keep` <= the surviving count.
    """
    p_leaves, treedef, (m_leaves, pr_leaves) = flatten_like(scores, mask, prunable)
    idx = [i for i, pr in enumerate(pr_leaves) if pr]
    flat = jnp.concatenate([jnp.where(m_leaves[i], p_leaves[i], -jnp.inf).ravel() for i in idx])
    kept = keep_largest(flat, keep)
    out = list(m_leaves)
    offset = 0
    for i in idx:
        size = m_leaves[i].size
        out[i] = kept[offset : offset + size].reshape(m_leaves[i].shape) & m_leaves[i]
        offset += size
    return jax.tree_util.tree_unflatten(treedef, out)


def random_global_mask(key: jax.Array, params: Tree, prunable: Tree, keep: jax.Array | int) -> Tree:
    """A uniformly random mask keeping `keep` prunable weights over all layers (layer ratios
    discarded); non-prunable leaves all True."""
    p_leaves, treedef, (pr_leaves,) = flatten_like(params, prunable)
    idx = [i for i, pr in enumerate(pr_leaves) if pr]
    total = sum(p_leaves[i].size for i in idx)
    kept = keep_largest(jax.random.uniform(key, (total,)), keep)
    out = [jnp.ones(p.shape, bool) for p in p_leaves]
    offset = 0
    for i in idx:
        size = p_leaves[i].size
        out[i] = kept[offset : offset + size].reshape(p_leaves[i].shape)
        offset += size
    return jax.tree_util.tree_unflatten(treedef, out)
