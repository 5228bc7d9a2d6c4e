"""The conditions of the paper's Table 1 (plus mask/re-init): how a level's (mask, start params)
follow from the previous level of the same condition's own chain.

Every condition first needs `keep`, the surviving count after this pruning step, and most start
from the IMP mask: global magnitude pruning of the condition's own best params.

- mask_weights:      IMP mask; start = mask * init (the ticket).
- mask_permuted:     IMP mask; the surviving init weights are permuted within each layer.
- permuted_permuted: the IMP mask is permuted within each layer (layer counts kept) and the
                     surviving init weights are placed on it in random order.
- random_reinit:     a random mask with the same global count (layer ratios discarded); fresh init.
- mask_reinit:       IMP mask; fresh init.

"init" is the dense run's initialization, or its weights at the rewind point (late rewinding).
Non-prunable leaves (biases, an unpruned critic) always start from init (fresh init for the
re-init conditions).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ticketlab.pruning.magnitude import global_magnitude_mask, random_global_mask
from ticketlab.pruning.masks import apply_mask

CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit", "mask_reinit")
CONDITION_IDS = {name: i for i, name in enumerate(CONDITIONS)}
DENSE = "dense"
"""Level 0 is dense and shared by all conditions; its files sit under this condition name."""


def place_permuted(key, values, source_mask, target_mask):
    """Put `values[source_mask]`, in uniformly random order, on the True cells of `target_mask`.

    Both masks must hold the same number of True cells; other cells become zero.
    """
    flat_v, flat_s, flat_t = values.ravel(), source_mask.ravel(), target_mask.ravel()
    targets = jnp.argsort(~flat_t, stable=True)  # True cells of target first, in index order
    u = jax.random.uniform(key, flat_s.shape)
    sources = jnp.argsort(jnp.where(flat_s, u, 2.0))  # True cells of source first, random order
    out = jnp.zeros_like(flat_v).at[targets].set(flat_v[sources])
    return jnp.where(flat_t, out, 0.0).reshape(values.shape)


def permute_within_layer(key, mask):
    """A uniformly random permutation of one layer's mask (its count kept)."""
    return jax.random.permutation(key, mask.ravel()).reshape(mask.shape)


def next_level(condition: str, key, best_params, prev_mask, init_params, fresh_params, prunable, keep):
    """(mask, start_params) of the next level of `condition`'s chain.

    `best_params` and `prev_mask` are this chain's previous level; `init_params` is the dense run's
    init (or rewind point); `fresh_params` a freshly drawn init for the re-init conditions.
    """
    if condition == "random_reinit":
        mask = random_global_mask(key, best_params, prunable, keep)
        return mask, apply_mask(fresh_params, mask)
    imp_mask = global_magnitude_mask(best_params, prev_mask, prunable, keep)
    if condition == "mask_weights":
        return imp_mask, apply_mask(init_params, imp_mask)
    if condition == "mask_reinit":
        return imp_mask, apply_mask(fresh_params, imp_mask)
    if condition not in ("mask_permuted", "permuted_permuted"):
        raise ValueError(f"imp.conditions: unknown {condition!r}; allowed: {', '.join(CONDITIONS)}")
    leaves, treedef = jax.tree_util.tree_flatten(init_params)
    masks = treedef.flatten_up_to(imp_mask)
    flags = treedef.flatten_up_to(prunable)
    keys = jax.random.split(key, 2 * len(leaves))
    new_masks, starts = [], []
    for i, (w, m, pr) in enumerate(zip(leaves, masks, flags)):
        if not pr:
            new_masks.append(m)
            starts.append(jnp.where(m, w, 0.0))
            continue
        target = permute_within_layer(keys[2 * i], m) if condition == "permuted_permuted" else m
        new_masks.append(target)
        starts.append(place_permuted(keys[2 * i + 1], w, m, target))
    return jax.tree_util.tree_unflatten(treedef, new_masks), jax.tree_util.tree_unflatten(treedef, starts)
