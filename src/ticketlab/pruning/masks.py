"""Masks are bool pytrees twinned with params; leaves that are never pruned hold all-True masks.

Layer paths are strings like `actor/dense_0/kernel`; pruning scope, files on disk and plots all
key on them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.store.files import path_str

SCOPES = {"actor": ("actor", "q"), "actor_critic": ("actor", "critic")}
"""`actor`: the network that acts (PPO's actor, a BC student, DQN's Q-network `q`)."""


def leaf_paths(tree) -> list[str]:
    """Layer paths of every leaf, in the pytree's leaf order."""
    return [path_str(p) for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def is_prunable(path: str, scope: str) -> bool:
    """Kernels (not biases) of the modules in `scope` are prunable."""
    return path.split("/")[0] in SCOPES[scope] and path.endswith("kernel")


def prunable_tree(params, scope: str):
    """A pytree of Python bools: True where the leaf is prunable."""
    return jax.tree_util.tree_map_with_path(lambda p, _: is_prunable(path_str(p), scope), params)


def ones_mask(params):
    """The dense mask: all True, same structure and shapes as params."""
    return jax.tree_util.tree_map(lambda x: jnp.ones(jnp.shape(x), bool), params)


def apply_mask(params, mask):
    """Zero the pruned weights: params * mask, leaf by leaf."""
    return jax.tree_util.tree_map(lambda p, m: jnp.where(m, p, jnp.zeros_like(p)), params, mask)


def prunable_count(mask, prunable) -> int:
    """Surviving prunable weights."""
    leaves = [np.asarray(m).sum() for m, pr in zip(_leaves(mask), _leaves(prunable)) if pr]
    return int(sum(leaves))


def prunable_total(tree, prunable) -> int:
    """Prunable weights of a params- or mask-shaped tree (arrays or shape structs)."""
    return int(sum(int(np.prod(m.shape)) for m, pr in zip(_leaves(tree), _leaves(prunable)) if pr))


def layer_density(mask, prunable) -> dict[str, float]:
    """Fraction of weights kept in each prunable layer, keyed by layer path."""
    return {
        path: float(np.asarray(m).mean())
        for path, m, pr in zip(leaf_paths(mask), _leaves(mask), _leaves(prunable))
        if pr
    }


def _leaves(tree):
    return jax.tree_util.tree_leaves(tree)
