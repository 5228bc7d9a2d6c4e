"""Masks are bool pytrees twinned with params; leaves that are never pruned hold all-True masks.

Layer paths are strings like `actor/dense_0/kernel`; pruning scope, files on disk and plots all
key on them.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.store.files import path_str

Tree = Any
"""A pytree of arrays: params, a mask, scores or prunable flags (nested dicts, module -> layer -> leaf)."""

SCOPES = {"actor": ("actor", "q"), "actor_critic": ("actor", "critic")}
"""`actor`: the network that acts (PPO's actor, a BC student, DQN's Q-network `q`)."""


def leaf_paths(tree: Tree) -> list[str]:
    """Layer paths of every leaf, in the pytree's leaf order."""
    return [path_str(p) for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def is_prunable(path: str, scope: str) -> bool:
    """Kernels (not biases) of the modules in `scope` are prunable."""
    return path.split("/")[0] in SCOPES[scope] and path.endswith("kernel")


def prunable_tree(params: Tree, scope: str) -> Tree:
    """A pytree of Python bools: True where the leaf is prunable."""
    return jax.tree_util.tree_map_with_path(lambda p, _: is_prunable(path_str(p), scope), params)


def ones_mask(params: Tree) -> Tree:
    """The dense mask: all True, same structure and shapes as params."""
    return jax.tree_util.tree_map(lambda x: jnp.ones(jnp.shape(x), bool), params)


def apply_mask(params: Tree, mask: Tree) -> Tree:
    """Zero the pruned weights: params * mask, leaf by leaf."""
    return jax.tree_util.tree_map(lambda p, m: jnp.where(m, p, jnp.zeros_like(p)), params, mask)


def prunable_count(mask: Tree, prunable: Tree) -> int:
    """Surviving prunable weights."""
    leaves = [np.asarray(m).sum() for m, pr in zip(_leaves(mask), _leaves(prunable)) if pr]
    return int(sum(leaves))


def prunable_total(tree: Tree, prunable: Tree) -> int:
    """Prunable weights of a params- or mask-shaped tree (arrays or shape structs)."""
    return int(sum(int(np.prod(m.shape)) for m, pr in zip(_leaves(tree), _leaves(prunable)) if pr))


def layer_density(mask: Tree, prunable: Tree) -> dict[str, float]:
    """Fraction of weights kept in each prunable layer, keyed by layer path."""
    return {
        path: float(np.asarray(m).mean())
        for path, m, pr in zip(leaf_paths(mask), _leaves(mask), _leaves(prunable))
        if pr
    }


def flatten_like(tree: Tree, *others: Tree) -> tuple[list[Any], Any, list[list[Any]]]:
    """`tree`'s leaves and structure, and each of `others` (trees of that structure) flattened up to
    it, so leaf i of each lines up with leaf i of `tree`."""
    leaves, structure = jax.tree_util.tree_flatten(tree)
    treedef: Any = structure  # (flatten_up_to is missing from jaxlib's type stub)
    return leaves, structure, [treedef.flatten_up_to(other) for other in others]


def _leaves(tree: Tree) -> list[Any]:
    return jax.tree_util.tree_leaves(tree)
