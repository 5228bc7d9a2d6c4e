"""How a mask's weights are shared among layers (`--imp.allocation`):

- `global`: one ranking over every prunable weight (the paper's IMP; the layers' shares follow);
- `uniform`: every layer keeps the same share (IMP: each layer pruned by the fraction of its own
  surviving weights, PyTorch's `l1_unstructured` per layer);
- `erk`: Erdos-Renyi-Kernel (Evci et al. 2020; rigl's `sparse_utils.get_sparsities_erdos_renyi`):
  layer l keeps a share proportional to sum(shape_l) / prod(shape_l), scaled so that the layers'
  counts sum to the target; a layer whose share would exceed 1 stays dense and the others are
  rescaled.

The counts are worked out on the host (numpy, float64) from a level's target and handed to the
compiled program as an int array, one entry per prunable leaf in `jax.tree_util.tree_leaves` order.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.pruning.magnitude import count_after_levels, keep_largest
from ticketlab.pruning.masks import Tree, flatten_like

ALLOCATIONS = ("global", "uniform", "erk")


def erk_densities(shapes: list[tuple[int, ...]], density: float) -> np.ndarray:
    """ERK's density of each layer for an overall `density` (Evci et al.'s formula, its dense
    layers saturated and the rest rescaled until none exceeds 1)."""
    sizes = np.array([math.prod(s) for s in shapes], np.float64)
    raw = np.array([sum(s) / math.prod(s) for s in shapes], np.float64)
    dense = np.zeros(len(shapes), bool)
    while True:
        eps = (density * sizes.sum() - sizes[dense].sum()) / (raw[~dense] * sizes[~dense]).sum()
        saturated = ~dense & (raw * eps > 1.0)
        if not saturated.any():
            return np.where(dense, 1.0, raw * eps)
        dense |= saturated


def erk_counts(shapes: list[tuple[int, ...]], keep: int) -> np.ndarray:
    """Per layer, the weights ERK keeps, summing to `keep` exactly."""
    sizes = np.array([math.prod(s) for s in shapes], np.float64)
    return round_to_total(erk_densities(shapes, keep / sizes.sum()) * sizes, sizes, keep)


def uniform_counts(shapes: list[tuple[int, ...]], keep: int) -> np.ndarray:
    """Per layer, the share `keep / total` of its weights, summing to `keep` exactly."""
    sizes = np.array([math.prod(s) for s in shapes], np.float64)
    return round_to_total(sizes * keep / sizes.sum(), sizes, keep)


def round_to_total(exact: np.ndarray, sizes: np.ndarray, keep: int) -> np.ndarray:
    """Each layer's count rounded down, then one more weight each for the layers with the largest
    fractional parts (earlier layers first on ties) until they sum to `keep`."""
    floor = np.minimum(np.floor(exact + 1e-9), sizes)
    short = int(keep - floor.sum())
    order = sorted(np.flatnonzero(floor < sizes), key=lambda i: (-(exact[i] - floor[i]), i))
    floor[order[:short]] += 1
    counts: np.ndarray = floor.astype(np.int64)
    return counts


COUNTS: dict[str, Callable[[list[tuple[int, ...]], int], np.ndarray | None]] = {
    "global": lambda shapes, keep: None,
    "uniform": uniform_counts,
    "erk": erk_counts,
}
"""Per allocation, a level's count shared among layers (None: one global ranking decides)."""


def prunable_shapes(tree: Tree, prunable: Tree) -> list[tuple[int, ...]]:
    """The shapes of the prunable leaves of `tree` (params or their shapes), in leaf order."""
    leaves, _, (flags,) = flatten_like(tree, prunable)
    return [tuple(leaf.shape) for leaf, pr in zip(leaves, flags) if pr]


def target_counts(allocation: str, shapes: list[tuple[int, ...]], keep: int) -> np.ndarray | None:
    """Per layer, what `allocation` keeps of a global count `keep` (None for global: one ranking)."""
    return COUNTS[allocation](shapes, keep)


def imp_layer_counts(
    allocation: str, shapes: list[tuple[int, ...]], level: int, fraction: float, rounding: str
) -> np.ndarray | None:
    """Per prunable layer, its surviving count at IMP `level` under `allocation` (None: global).
    uniform prunes each layer by `fraction` of its own survivors at every level; erk keeps ERK's
    share of the level's global count (masks stay nested: ERK's counts only shrink as the target
    does)."""
    if allocation == "global":
        return None
    if allocation == "uniform":
        return np.array([count_after_levels(math.prod(s), fraction, level, rounding) for s in shapes], np.int64)
    total = sum(math.prod(s) for s in shapes)
    return erk_counts(shapes, count_after_levels(total, fraction, level, rounding))


def layerwise_mask(scores: Tree, mask: Tree, prunable: Tree, counts: jax.Array) -> Tree:
    """Keep, in each prunable leaf, its `counts[i]` highest-scoring surviving weights (already
    pruned ones score -inf); non-prunable leaves keep their mask."""
    s_leaves, treedef, (m_leaves, pr_leaves) = flatten_like(scores, mask, prunable)
    out, i = list(m_leaves), 0
    for j, (s, m, pr) in enumerate(zip(s_leaves, m_leaves, pr_leaves)):
        if pr:
            out[j] = keep_largest(jnp.where(m, s, -jnp.inf).ravel(), counts[i]).reshape(m.shape) & m
            i += 1
    return jax.tree_util.tree_unflatten(treedef, out)


def random_layerwise_mask(key: jax.Array, tree: Tree, prunable: Tree, counts: jax.Array) -> Tree:
    """A uniformly random mask with `counts[i]` weights in prunable leaf i; other leaves all True."""
    leaves, _, (flags,) = flatten_like(tree, prunable)
    scores = jax.tree_util.tree_unflatten(
        jax.tree_util.tree_structure(tree),
        [jax.random.uniform(k, leaf.shape) for k, leaf in zip(jax.random.split(key, len(leaves)), leaves)],
    )
    ones = jax.tree_util.tree_map(lambda leaf: jnp.ones(leaf.shape, bool), tree)
    return layerwise_mask(scores, ones, prunable, counts)
