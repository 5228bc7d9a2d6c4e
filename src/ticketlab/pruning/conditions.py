"""The conditions of the paper's Table 1 (plus mask/re-init), by name: how a level's
(mask, start params) follow from the previous level of the same condition's own chain.

Each `Condition` carries everything about its name: a fixed integer id (random keys derive from
it, so a condition's numbers never move when others are added), its plot colour and label, and
`derive`. Every condition first needs `keep`, the surviving count after this pruning step, and
most start from the IMP mask: the `keep` highest-scoring surviving prunable weights of the
condition's own trained params (score: |w| unless `imp.score` says otherwise).

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

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from ticketlab.pruning.magnitude import global_score_mask, random_global_mask
from ticketlab.pruning.masks import apply_mask
from ticketlab.registry import Registry

DENSE = "dense"
"""Level 0 is dense and shared by all conditions; its files sit under this condition name."""
DENSE_ID = 1000


@dataclass(frozen=True)
class Inputs:
    """What a condition may use to derive its next level (all of one seed)."""

    key: jax.Array
    scores: object
    """Scores of the chain's previous trained params (|w| for IMP)."""
    prev_mask: object
    init: object
    """The dense run's init (or rewind point)."""
    fresh: object
    """A freshly drawn init."""
    prunable: object
    keep: jax.Array


@dataclass(frozen=True)
class Condition:
    name: str
    id: int
    """Fixed forever: random keys of this condition's runs derive from it."""
    derive: Callable[[Inputs], tuple]
    """Inputs -> (mask, start params)."""
    label: str
    colour: str


CONDITIONS: Registry[Condition] = Registry("imp.conditions")


def register_condition(condition: Condition, *, replace: bool = False) -> Condition:
    taken = {c.id: n for n, c in CONDITIONS.items() if n != condition.name}
    if condition.id in taken or condition.id == DENSE_ID:
        raise ValueError(f"condition id {condition.id} is taken ({taken.get(condition.id, DENSE)})")
    return CONDITIONS.register(condition.name, condition, replace=replace)


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


def imp_mask(x: Inputs):
    return global_score_mask(x.scores, x.prev_mask, x.prunable, x.keep)


def _mask_weights(x: Inputs):
    mask = imp_mask(x)
    return mask, apply_mask(x.init, mask)


def _mask_reinit(x: Inputs):
    mask = imp_mask(x)
    return mask, apply_mask(x.fresh, mask)


def _random_reinit(x: Inputs):
    mask = random_global_mask(x.key, x.scores, x.prunable, x.keep)
    return mask, apply_mask(x.fresh, mask)


def _permuted(permute_mask: bool):
    def derive(x: Inputs):
        leaves, treedef = jax.tree_util.tree_flatten(x.init)
        masks = treedef.flatten_up_to(imp_mask(x))
        flags = treedef.flatten_up_to(x.prunable)
        keys = jax.random.split(x.key, 2 * len(leaves))
        new_masks, starts = [], []
        for i, (w, m, pr) in enumerate(zip(leaves, masks, flags)):
            if not pr:
                new_masks.append(m)
                starts.append(jnp.where(m, w, 0.0))
                continue
            target = permute_within_layer(keys[2 * i], m) if permute_mask else m
            new_masks.append(target)
            starts.append(place_permuted(keys[2 * i + 1], w, m, target))
        return jax.tree_util.tree_unflatten(treedef, new_masks), jax.tree_util.tree_unflatten(treedef, starts)

    return derive


for _condition in (
    Condition("mask_weights", 0, _mask_weights, "mask/weights (ticket)", "#d62728"),
    Condition("mask_permuted", 1, _permuted(False), "mask/permuted", "#1f77b4"),
    Condition("permuted_permuted", 2, _permuted(True), "permuted/permuted", "#2ca02c"),
    Condition("random_reinit", 3, _random_reinit, "random/re-init", "#7f7f7f"),
    Condition("mask_reinit", 4, _mask_reinit, "mask/re-init", "#9467bd"),
):
    register_condition(_condition)

PAPER_CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit")
"""The four conditions of the paper's Table 1."""


def condition_id(name: str) -> int:
    return DENSE_ID if name == DENSE else CONDITIONS.get(name).id


def style(name: str) -> tuple[str, str]:
    """(colour, label) of a condition for plots; black and the name itself for unknown ones."""
    if name in CONDITIONS:
        c = CONDITIONS.get(name)
        return c.colour, c.label
    return "black", name


def next_level(condition: str, inputs: Inputs):
    """(mask, start_params) of the next level of `condition`'s chain."""
    return CONDITIONS.get(condition).derive(inputs)
