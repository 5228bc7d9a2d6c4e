"""Pruning conditions by name: the paper's Table 1 (plus mask/re-init) and the baselines tickets
are compared against; how a level's (mask, start params) follow from what came before.

Each `Condition` carries everything about its name: a fixed integer id (random keys derive from
it, so a condition's numbers never move when others are added), its plot colour and label, what
it scores (`source`, `score`), and `derive`. Every condition gets `keep`, the IMP count of
surviving prunable weights at this level, and the scores of its source params. Sources are entries
too (`SOURCES`, `register_source`): which earlier run a level derives from, and what of it is scored:

- source "chain" (IMP): the condition's own previous level, trained (its best checkpoint) under
  its own previous mask; the "IMP mask" keeps the `keep` highest-scoring of those weights.
- source "dense": the dense level 0, trained; every level prunes it in one step (prev mask dense).
- source "init": the initialization, untrained (pruning at init); prev mask dense.

Scores are `imp.score` (|w| by default) unless the condition fixes its own.

- mask_weights:       IMP mask; start = mask * init (the ticket).
- mask_permuted:      IMP mask; the surviving init weights are permuted within each layer.
- permuted_permuted:  the IMP mask is permuted within each layer (layer counts kept) and the
                      surviving init weights are placed on it in random order.
- random_reinit:      a random mask with the same global count (layer ratios discarded); fresh init.
- mask_reinit:        IMP mask; fresh init.
- one_shot:           the dense run's trained weights pruned to this level's count in one step;
                      start = mask * init (Frankle & Carbin's one-shot comparison).
- snip, grasp:        pruned at init to this level's count in one step by SNIP's |g * w| or
                      GraSP's w * Hg (one batch of the agent's own loss at init, the same batch
                      at every level); start = mask * init.
- random_ratios:      a uniformly random mask within each layer with the IMP mask's layer counts;
                      start = mask * init (the init weights at their own positions): the IMP layer
                      ratios without the IMP positions.
- structured_inputs:  whole input dimensions (first-layer rows; input channels of a conv first
                      layer) of each pruned module, `imp.prune-fraction` of the surviving ones per
                      level (at least one kept), lowest L1 norm of their surviving weights first.
- structured_units:   whole hidden units of each pruned module's hidden dense layers (the unit's
                      incoming column and outgoing row), per layer, lowest L1 norm of the incoming
                      weights first, at least one kept.

"init" is the dense run's initialization, or its weights at the rewind point (late rewinding).
Non-prunable leaves (biases, an unpruned critic) always start from init (fresh init for the
re-init conditions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ticketlab.core.registry import Registry
from ticketlab.pruning.allocation import layerwise_mask, random_layerwise_mask
from ticketlab.pruning.magnitude import global_score_mask, keep_largest, prune_count, random_global_mask
from ticketlab.pruning.masks import Tree, apply_mask, flatten_like

DENSE = "dense"
"""Level 0 is dense and shared by all conditions; its files sit under this condition name."""
DENSE_ID = 1000


@dataclass(frozen=True)
class Inputs:
    """What a condition may use to derive its next level (all of one seed)."""

    key: jax.Array
    scores: Tree
    """Scores of the chain's previous trained params (|w| for IMP)."""
    prev_mask: Tree
    init: Tree
    """The dense run's init (or rewind point)."""
    fresh: Tree
    """A freshly drawn init."""
    prunable: Tree
    keep: jax.Array
    prev_start: Tree = None
    """The chain's previous start params (init at level 1)."""
    fraction: float = 0.2
    """imp.prune-fraction (structured conditions prune this share of their structures)."""
    rounding: str = "ceil"
    """imp.prune-count."""
    permute_values: str = "init"
    """imp.permute-values: which values the permuted conditions permute (`init` or `previous`)."""
    layer_keep: jax.Array | None = None
    """imp.allocation uniform or erk: each prunable layer's surviving count at this level
    (pruning/allocation.py); None: one global ranking (`keep`), the paper's."""


@dataclass(frozen=True)
class Condition:
    """An IMP condition (paper Table 1) or baseline: how the next level's mask and start params
    derive from the previous level (`derive`), with its fixed id, label and colour in every table and
    figure. Register one with `register_condition`; `--imp.conditions` names it."""

    name: str
    id: int
    """Fixed forever: random keys of this condition's runs derive from it."""
    derive: Callable[[Inputs], tuple[Tree, Tree]]
    """Inputs -> (mask, start params)."""
    label: str
    colour: str
    source: str = "chain"
    """What is scored: chain (its previous level, trained), dense (level 0, trained) or init."""
    score: str | None = None
    """A fixed score (snip, grasp, magnitude); None: imp.score."""
    short: str = ""
    """A short name for tables (the name itself when empty)."""


@dataclass(frozen=True)
class Source:
    """Where a condition's level comes from (a registry entry): `previous(level, condition) ->
    (level, condition)` names the earlier run whose mask and start it derives from (the engine
    trains that one first), whose best params it scores unless `scores_init`."""

    name: str
    previous: Callable[[int, str], tuple[int, str]]
    scores_init: bool = False
    """Score the initialization instead (pruning at init): its batch of a gradient-based score is
    level 0's at every level."""


SOURCES: Registry[Source] = Registry("condition source")


def register_source(source: Source, *, replace: bool = False) -> Source:
    return SOURCES.register(source.name, source, replace=replace)


for _source in (
    Source("chain", lambda level, condition: (level - 1, condition) if level > 1 else (0, DENSE)),
    Source("dense", lambda level, condition: (0, DENSE)),
    Source("init", lambda level, condition: (0, DENSE), scores_init=True),
):
    register_source(_source)

PERMUTE_VALUES = ("init", "previous")

CONDITIONS: Registry[Condition] = Registry("imp.conditions")
"""Every condition `--imp.conditions` can name: the paper's four (`PAPER_CONDITIONS`) and the
baselines (one_shot, snip, grasp, mask_reinit, random_ratios, structured_inputs, structured_units)."""


def register_condition(condition: Condition, *, replace: bool = False) -> Condition:
    """Add a condition; its id must be new (its runs' random keys derive from it) and its source
    one of chain, dense or init. Returns it."""
    taken = {c.id: n for n, c in CONDITIONS.items() if n != condition.name}
    if condition.id in taken or condition.id == DENSE_ID:
        raise ValueError(f"condition id {condition.id} is taken ({taken.get(condition.id, DENSE)})")
    if condition.source not in SOURCES:
        raise ValueError(f"condition source {condition.source!r}; allowed: {', '.join(SOURCES)}")
    return CONDITIONS.register(condition.name, condition, replace=replace)


def previous_run(condition: str, level: int) -> tuple[int, str]:
    """The (level, condition) a condition's `level` derives from (level 0: nothing, it is dense)."""
    return SOURCES.get(CONDITIONS.get(condition).source).previous(level, condition)


LayerFn = Callable[[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]
"""(mask key, value key, init leaf, value leaf, mask leaf) -> (mask leaf, start leaf) of one layer."""


def place_permuted(key: jax.Array, values: jax.Array, source_mask: jax.Array, target_mask: jax.Array) -> jax.Array:
    """Put `values[source_mask]`, in uniformly random order, on the True cells of `target_mask`.

    Both masks must hold the same number of True cells; other cells become zero.
    """
    flat_v, flat_s, flat_t = values.ravel(), source_mask.ravel(), target_mask.ravel()
    targets = jnp.argsort(~flat_t, stable=True)  # True cells of target first, in index order
    u = jax.random.uniform(key, flat_s.shape)
    sources = jnp.argsort(jnp.where(flat_s, u, 2.0))  # True cells of source first, random order
    out = jnp.zeros_like(flat_v).at[targets].set(flat_v[sources])
    return jnp.where(flat_t, out, 0.0).reshape(values.shape)


def permute_within_layer(key: jax.Array, mask: jax.Array) -> jax.Array:
    """A uniformly random permutation of one layer's mask (its count kept)."""
    return jax.random.permutation(key, mask.ravel()).reshape(mask.shape)


def imp_mask(x: Inputs) -> Tree:
    if x.layer_keep is None:
        return global_score_mask(x.scores, x.prev_mask, x.prunable, x.keep)
    return layerwise_mask(x.scores, x.prev_mask, x.prunable, x.layer_keep)


def _mask_weights(x: Inputs) -> tuple[Tree, Tree]:
    mask = imp_mask(x)
    return mask, apply_mask(x.init, mask)


def _mask_reinit(x: Inputs) -> tuple[Tree, Tree]:
    mask = imp_mask(x)
    return mask, apply_mask(x.fresh, mask)


def _random_reinit(x: Inputs) -> tuple[Tree, Tree]:
    if x.layer_keep is None:
        mask = random_global_mask(x.key, x.scores, x.prunable, x.keep)
    else:
        mask = random_layerwise_mask(x.key, x.scores, x.prunable, x.layer_keep)
    return mask, apply_mask(x.fresh, mask)


def permuted_values(x: Inputs) -> Tree:
    """The values the permuted conditions draw from: the initialization at the surviving
    positions (`init`, the default), or the chain's own previous start values (`previous`: from
    level 2 on, the values it permuted in before)."""
    return x.init if x.permute_values == "init" else x.prev_start


def _per_layer(x: Inputs, mask: Tree, layer_fn: LayerFn) -> tuple[Tree, Tree]:
    """`layer_fn(mask_key, value_key, init_leaf, value_leaf, mask_leaf) -> (mask_leaf, start_leaf)`
    on each prunable leaf of `mask`; non-prunable leaves keep their mask and start from init."""
    leaves, treedef, (values, masks, flags) = flatten_like(x.init, permuted_values(x), mask, x.prunable)
    keys = jax.random.split(x.key, 2 * len(leaves))
    new_masks: list[jax.Array] = []
    starts: list[jax.Array] = []
    for i, (w, v, m, pr) in enumerate(zip(leaves, values, masks, flags)):
        if not pr:
            new_masks.append(m)
            starts.append(jnp.where(m, w, 0.0))
            continue
        nm, st = layer_fn(keys[2 * i], keys[2 * i + 1], w, v, m)
        new_masks.append(nm)
        starts.append(st)
    return jax.tree_util.tree_unflatten(treedef, new_masks), jax.tree_util.tree_unflatten(treedef, starts)


def _permuted(permute_mask: bool) -> Callable[[Inputs], tuple[Tree, Tree]]:
    def layer(
        mask_key: jax.Array, value_key: jax.Array, w: jax.Array, v: jax.Array, m: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        target = permute_within_layer(mask_key, m) if permute_mask else m
        return target, place_permuted(value_key, v, m, target)

    return lambda x: _per_layer(x, imp_mask(x), layer)


def _random_ratios(x: Inputs) -> tuple[Tree, Tree]:
    def layer(
        mask_key: jax.Array, value_key: jax.Array, w: jax.Array, v: jax.Array, m: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        target = permute_within_layer(mask_key, m)
        return target, jnp.where(target, w, 0.0)

    return _per_layer(x, imp_mask(x), layer)


def _sparse_method(dense_start: bool) -> Callable[[Inputs], tuple[Tree, Tree]]:
    """A sparse-training condition's level (pruning/sparse_training.py): a random mask with the
    level's count, shared among layers by `sparse.allocation` (`layer_keep`; None: one random draw
    over all layers), which set, rigl and static start from and train; gmp starts dense from the
    initialization, the mask saying only each layer's target count."""

    def derive(x: Inputs) -> tuple[Tree, Tree]:
        if x.layer_keep is None:
            mask = random_global_mask(x.key, x.init, x.prunable, x.keep)
        else:
            mask = random_layerwise_mask(x.key, x.init, x.prunable, x.layer_keep)
        return mask, (x.init if dense_start else apply_mask(x.init, mask))

    return derive


SPARSE_METHODS = ("gmp", "set", "rigl", "static")
"""The conditions whose mask changes while they train (agents/sparse_stages.py)."""


def structures_kept(n: int, fraction: float, rounding: str) -> int:
    """Structures (input dimensions, hidden units) left after one pruning step from `n`: the
    pruning count of `imp.prune-count`, at least one kept."""
    return max(min(n, 1), n - prune_count(n, fraction, rounding))


def _prune_structures(scores: jax.Array, alive: jax.Array, x: Inputs) -> jax.Array:
    """Bool vector: the surviving structures (alive) minus the lowest-scoring share of them."""
    n = alive.shape[0]
    table = jnp.array([structures_kept(k, x.fraction, x.rounding) for k in range(n + 1)], jnp.int32)
    keep = table[jnp.sum(alive)]
    return keep_largest(jnp.where(alive, scores, -jnp.inf), keep) & alive


def _module_layers(tree: Tree, prunable: Tree) -> dict[str, list[str]]:
    """For each module with prunable kernels, its layer names in order (conv_i, then dense_i)."""
    out: dict[str, list[str]] = {}
    for module, layers in tree.items():
        if not isinstance(layers, dict):
            continue
        names = [n for n in layers if isinstance(layers[n], dict) and prunable[module][n].get("kernel", False)]
        order = sorted(names, key=lambda n: (not n.startswith("conv"), int(n.rsplit("_", 1)[1])))
        if order:
            out[module] = order
    return out


def _mutable_copy(mask: Tree) -> Tree:
    """The same leaves in new containers (the structured conditions replace some)."""
    return jax.tree_util.tree_map(lambda m: m, mask)


def _structured_inputs(x: Inputs) -> tuple[Tree, Tree]:
    """Whole input dimensions of each pruned module's first layer, by the L1 norm of their
    surviving weights (the scores are |w|)."""
    mask = _mutable_copy(x.prev_mask)
    for module, layers in _module_layers(x.prev_mask, x.prunable).items():
        m, sc = x.prev_mask[module][layers[0]]["kernel"], x.scores[module][layers[0]]["kernel"]
        axis = m.ndim - 2  # dense (in, out): rows; conv (h, w, in, out): input channels
        other = tuple(a for a in range(m.ndim) if a != axis)
        alive = jnp.any(m, axis=other)
        kept = _prune_structures(jnp.sum(jnp.where(m, sc, 0.0), axis=other), alive, x)
        shape = [1] * m.ndim
        shape[axis] = -1
        mask[module][layers[0]]["kernel"] = m & kept.reshape(shape)
    return mask, apply_mask(x.init, mask)


def _structured_units(x: Inputs) -> tuple[Tree, Tree]:
    """Whole hidden units of each pruned module's hidden dense layers, per layer, by the L1 norm
    of their surviving incoming weights; a removed unit loses its incoming column and the next
    layer's row (its bias stays, as biases are never pruned, but reaches nothing)."""
    mask = _mutable_copy(x.prev_mask)
    for module, layers in _module_layers(x.prev_mask, x.prunable).items():
        dense = [n for n in layers if n.startswith("dense")]
        for this, nxt in zip(dense[:-1], dense[1:]):
            m, sc = mask[module][this]["kernel"], x.scores[module][this]["kernel"]
            alive = jnp.any(m, axis=0) & jnp.any(mask[module][nxt]["kernel"], axis=1)
            kept = _prune_structures(jnp.sum(jnp.where(m, sc, 0.0), axis=0), alive, x)
            mask[module][this]["kernel"] = m & kept[None, :]
            mask[module][nxt]["kernel"] = mask[module][nxt]["kernel"] & kept[:, None]
    return mask, apply_mask(x.init, mask)


for _condition in (
    Condition("mask_weights", 0, _mask_weights, "mask/weights (ticket)", "#d62728", short="ticket"),
    Condition("mask_permuted", 1, _permuted(False), "mask/permuted", "#1f77b4", short="m/perm"),
    Condition("permuted_permuted", 2, _permuted(True), "permuted/permuted", "#2ca02c", short="perm/perm"),
    Condition("random_reinit", 3, _random_reinit, "random/re-init", "#7f7f7f", short="rand/reinit"),
    Condition("mask_reinit", 4, _mask_reinit, "mask/re-init", "#9467bd", short="m/reinit"),
    Condition("one_shot", 5, _mask_weights, "one-shot magnitude", "#ff7f0e", source="dense"),
    Condition("snip", 6, _mask_weights, "SNIP at init", "#8c564b", source="init", score="snip"),
    Condition("grasp", 7, _mask_weights, "GraSP at init", "#e377c2", source="init", score="grasp"),
    Condition("random_ratios", 8, _random_ratios, "random (IMP layer ratios)", "#bcbd22", short="rand/ratios"),
    Condition(
        "structured_inputs",
        9,
        _structured_inputs,
        "structured: input dims (L1)",
        "#17becf",
        score="magnitude",
        short="struct/inputs",
    ),
    Condition(
        "structured_units",
        10,
        _structured_units,
        "structured: hidden units (L1)",
        "#393b79",
        score="magnitude",
        short="struct/units",
    ),
    Condition("gmp", 11, _sparse_method(True), "GMP (gradual magnitude)", "#e6550d", source="init", short="gmp"),
    Condition("set", 12, _sparse_method(False), "SET (random regrowth)", "#31a354", source="init", short="set"),
    Condition("rigl", 13, _sparse_method(False), "RigL (gradient regrowth)", "#3182bd", source="init", short="rigl"),
    Condition("static", 14, _sparse_method(False), "static random sparse", "#636363", source="init", short="static"),
):
    register_condition(_condition)

PAPER_CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit")
"""The four conditions of the paper's Table 1."""


def condition_id(name: str) -> int:
    return DENSE_ID if name == DENSE else CONDITIONS.get(name).id


def short_name(name: str) -> str:
    """A condition's name in tables: its short name, else the name itself."""
    return (CONDITIONS.get(name).short or name) if name in CONDITIONS else name


def style(name: str) -> tuple[str, str]:
    """(colour, label) of a condition for plots; black and the name itself for unknown ones."""
    if name in CONDITIONS:
        c = CONDITIONS.get(name)
        return c.colour, c.label
    return "black", name


def score_name(condition: str, imp_score: str) -> str:
    """The score a condition ranks weights by: its own fixed one, else `imp.score`."""
    return CONDITIONS.get(condition).score or imp_score


def next_level(condition: str, inputs: Inputs) -> tuple[Tree, Tree]:
    """(mask, start_params) of the next level of `condition`'s chain."""
    return CONDITIONS.get(condition).derive(inputs)
