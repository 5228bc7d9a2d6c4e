"""The sparse-training methods of deep RL, as masks that change while a network trains (Graesser
et al. 2022, google-research/rigl `rigl/rl/`; Obando-Ceron et al. 2024, jaxpruner):

- `gmp`: gradual magnitude pruning (Zhu & Gupta 2017): from dense, every `period` steps between
  `start` and `end` the smallest surviving weights go, until each layer keeps its target count;
  the share of the pruning done at step t is 1 - (1 - progress)^3 (rigl's PolynomialDecay, power 3);
- `set`: sparse evolutionary training (Mocanu et al. 2018): a random sparse mask; every `period`
  steps up to `end`, each layer drops the `drop_fraction` of its live weights with the smallest |w|
  and grows as many at random among the others;
- `rigl`: like SET, but grows where the dense gradient |dL/dw| of a batch is largest (Evci et al.
  2020);
- `static`: a random sparse mask, fixed.

A grown weight starts at zero with zeroed optimizer moments (RigL's rule); a dropped weight is
zeroed; each layer's live count is its target count at every step (GMP: on its schedule). The
drop fraction decays with a cosine to zero at `end` (rigl's and jaxpruner's `cosine_decay`).
Everything here is a pure function of pytrees; `agents/sparse_stages.py` runs it inside a
training program, and `sparse_update` is what a training function of your own calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ticketlab.pruning.magnitude import keep_largest
from ticketlab.pruning.masks import Tree, flatten_like

METHODS = ("gmp", "set", "rigl", "static")
DROP_SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class SparseSchedule:
    """When a method updates its mask, in a training's own steps (PPO updates, DQN iterations,
    BC epochs): after step t (0-based) when t + 1 is a multiple of `period` in [start, end]."""

    steps: int
    start: int
    end: int
    period: int
    drop_fraction: float = 0.3
    drop_schedule: str = "cosine"

    @classmethod
    def of(
        cls, steps: int, start: float, end: float, every: float, drop_fraction: float, drop_schedule: str
    ) -> SparseSchedule:
        """A schedule from fractions of training (`every`: the fraction between two updates)."""
        return cls(
            steps=steps,
            start=int(round(start * steps)),
            end=max(1, int(round(end * steps))),
            period=max(1, int(round(every * steps))),
            drop_fraction=drop_fraction,
            drop_schedule=drop_schedule,
        )

    def updates_after(self, t: jax.Array) -> jax.Array:
        done = t + 1
        return ((done % self.period == 0) | (done == self.end)) & (done >= self.start) & (done <= self.end)

    def pruned_share(self, t: jax.Array) -> jax.Array:
        """GMP: the share of its pruning done after step t, 1 - (1 - progress)^3."""
        progress = jnp.clip((t + 1 - self.start) / max(self.end - self.start, 1), 0.0, 1.0)
        return 1.0 - (1.0 - progress) ** 3

    def drop_fraction_at(self, t: jax.Array) -> jax.Array:
        """SET and RigL: the share of each layer's live weights replaced after step t."""
        if self.drop_schedule == "constant":
            return jnp.asarray(self.drop_fraction, jnp.float32)
        return self.drop_fraction * 0.5 * (1.0 + jnp.cos(math.pi * jnp.minimum(t + 1, self.end) / self.end))


def layer_counts(mask: Tree, prunable: Tree) -> jax.Array:
    """Live weights per prunable leaf, in leaf order."""
    leaves, _, (flags,) = flatten_like(mask, prunable)
    return jnp.array([jnp.sum(m) for m, pr in zip(leaves, flags) if pr], jnp.int32)


def gmp_counts(sizes: jax.Array, targets: jax.Array, share: jax.Array) -> jax.Array:
    """Per layer, the weights GMP keeps once `share` of its pruning is done."""
    return (sizes - jnp.round((sizes - targets) * share)).astype(jnp.int32)


def gmp_mask(params: Tree, mask: Tree, prunable: Tree, counts: jax.Array, global_count: jax.Array | None) -> Tree:
    """The largest-|w| surviving weights: `counts[i]` in layer i, or, with `global_count`, that
    many over all layers at once (the `global` allocation)."""
    p_leaves, treedef, (m_leaves, pr_leaves) = flatten_like(params, mask, prunable)
    scores = [jnp.where(m, jnp.abs(p), -jnp.inf) for p, m in zip(p_leaves, m_leaves)]
    out = list(m_leaves)
    if global_count is not None:
        idx = [i for i, pr in enumerate(pr_leaves) if pr]
        kept = keep_largest(jnp.concatenate([scores[i].ravel() for i in idx]), global_count)
        offset = 0
        for i in idx:
            out[i] = kept[offset : offset + m_leaves[i].size].reshape(m_leaves[i].shape) & m_leaves[i]
            offset += m_leaves[i].size
        return jax.tree_util.tree_unflatten(treedef, out)
    j = 0
    for i, pr in enumerate(pr_leaves):
        if pr:
            out[i] = keep_largest(scores[i].ravel(), counts[j]).reshape(m_leaves[i].shape) & m_leaves[i]
            j += 1
    return jax.tree_util.tree_unflatten(treedef, out)


def drop_and_grow(params: Tree, mask: Tree, prunable: Tree, grow_scores: Tree, fraction: jax.Array) -> Tree:
    """Per prunable layer: drop floor(live * fraction) of its live weights with the smallest |w|,
    then grow as many where `grow_scores` is largest among the weights not kept (a weight just
    dropped may come back); its live count stays. Ties: the lower index first (rigl's top_k)."""
    p_leaves, treedef, (m_leaves, pr_leaves, g_leaves) = flatten_like(params, mask, prunable, grow_scores)
    out = list(m_leaves)
    for i, pr in enumerate(pr_leaves):
        if not pr:
            continue
        m, w, g = m_leaves[i].ravel(), p_leaves[i].ravel(), g_leaves[i].ravel()
        live = jnp.sum(m)
        dropped = jnp.floor(live * fraction).astype(jnp.int32)
        kept = keep_largest_first(jnp.where(m, jnp.abs(w), -jnp.inf), live - dropped) & m
        grown = keep_largest_first(jnp.where(kept, jnp.inf, g), live)
        out[i] = grown.reshape(m_leaves[i].shape)
    return jax.tree_util.tree_unflatten(treedef, out)


def keep_largest_first(scores: jax.Array, keep: jax.Array) -> jax.Array:
    """Bool vector, True for the `keep` largest scores, the lower index first among equal ones."""
    n = scores.shape[0]
    order = jnp.argsort(-scores, stable=True)
    ranks = jnp.zeros(n, jnp.int32).at[order].set(jnp.arange(n, dtype=jnp.int32))
    return ranks < keep


def zero_where(tree: Any, where: Tree) -> Any:
    """`tree` (an optimizer state, or params) with every subtree shaped like `where` (or like one
    of its modules) zeroed where `where` is True: Adam's moments of grown weights."""
    candidates = [where, *(where.values() if isinstance(where, dict) else ())]

    def signature(node: Any) -> tuple[Any, list[Any]]:
        leaves = jax.tree_util.tree_leaves(node)
        return jax.tree_util.tree_structure(node), [getattr(x, "shape", None) for x in leaves]

    structures = [signature(c) for c in candidates]

    def match(node: Any) -> int:
        return next((i for i, s in enumerate(structures) if s == signature(node)), -1)

    def zero(node: Any) -> Any:
        i = match(node)
        if i < 0:
            return node
        return jax.tree_util.tree_map(lambda x, w: jnp.where(w, jnp.zeros_like(x), x), node, candidates[i])

    return jax.tree_util.tree_map(zero, tree, is_leaf=lambda node: match(node) >= 0)


def apply_update(params: Tree, opt_state: Any, old: Tree, new: Tree) -> tuple[Tree, Any]:
    """Params and optimizer state after the mask changes from `old` to `new`: dropped and grown
    weights zero (a grown one starts at zero), the grown weights' optimizer moments zero."""
    grown = jax.tree_util.tree_map(lambda n, o: n & ~o, new, old)
    params = jax.tree_util.tree_map(lambda p, n: jnp.where(n, p, jnp.zeros_like(p)), params, new)
    return params, zero_where(opt_state, grown)


def sparse_update(
    method: str,
    schedule: SparseSchedule,
    step: jax.Array,
    params: Tree,
    opt_state: Any,
    mask: Tree,
    prunable: Tree,
    targets: jax.Array,
    key: jax.Array,
    dense_grads: Tree | None = None,
    global_count: jax.Array | None = None,
) -> tuple[Tree, Any, Tree]:
    """(params, opt_state, mask) after step `step` of `method`: unchanged unless the schedule
    updates the mask then. `targets`: each prunable layer's final live count (SET, RigL, static:
    the count it keeps throughout); `global_count`: GMP under the global allocation; `dense_grads`:
    RigL's |dL/dw| at the sparse point (needed by rigl only)."""
    if method == "static":
        return params, opt_state, mask

    def update(operands: tuple[Tree, Any, Tree]) -> tuple[Tree, Any, Tree]:
        params, opt_state, mask = operands
        if method == "gmp":
            share = schedule.pruned_share(step)
            sizes = layer_counts(jax.tree_util.tree_map(jnp.ones_like, mask), prunable)
            counts = gmp_counts(sizes, targets, share)
            total = (
                None
                if global_count is None
                else jnp.round(jnp.sum(sizes) - (jnp.sum(sizes) - global_count) * share).astype(jnp.int32)
            )
            new = gmp_mask(params, mask, prunable, counts, total)
        else:
            if method == "rigl":
                if dense_grads is None:
                    raise ValueError("rigl grows by the dense gradient: pass dense_grads")
                scores = jax.tree_util.tree_map(jnp.abs, dense_grads)
            else:
                leaves, treedef = jax.tree_util.tree_flatten(params)
                keys = jax.random.split(jax.random.fold_in(key, step), len(leaves))
                scores = jax.tree_util.tree_unflatten(
                    treedef, [jax.random.uniform(k, leaf.shape) for k, leaf in zip(keys, leaves)]
                )
            new = drop_and_grow(params, mask, prunable, scores, schedule.drop_fraction_at(step))
        params, opt_state = apply_update(params, opt_state, mask, new)
        return params, opt_state, new

    out: tuple[Tree, Any, Tree] = jax.lax.cond(
        schedule.updates_after(step), update, lambda operands: operands, (params, opt_state, mask)
    )
    return out


class SparseState(NamedTuple):
    """The state of `sparse(tx, ...)`: the inner optimizer's, the mask, the step and a key."""

    inner: Any
    mask: Tree
    step: jax.Array
    key: jax.Array


def sparse(
    tx: optax.GradientTransformation,
    method: str,
    schedule: SparseSchedule,
    prunable: Tree,
    targets: jax.Array,
    global_count: jax.Array | None = None,
) -> optax.GradientTransformationExtraArgs:
    """`tx` whose state holds a mask that `method` changes on `schedule` (like jaxpruner's
    `wrap_optax`): `init(params, mask=..., key=...)`, then `update(grads, state, params)` with the
    gradients of the loss at the sparse params (dense: not masked in the forward pass, so RigL sees
    where to grow). Updates are masked, and on a step that changes the mask no gradient step is
    taken: the updates zero the dropped weights and the state zeroes the grown ones' moments.
    `state.mask` is the mask to use (and to store) after each update."""

    def init(params: Tree, mask: Tree | None = None, key: jax.Array | None = None) -> SparseState:
        mask = jax.tree_util.tree_map(lambda p: jnp.ones(jnp.shape(p), bool), params) if mask is None else mask
        key = jax.random.PRNGKey(0) if key is None else key
        return SparseState(tx.init(params), mask, jnp.zeros((), jnp.int32), key)

    def update(grads: Tree, state: SparseState, params: Tree = None, **extra: Any) -> tuple[Tree, SparseState]:
        if params is None:
            raise ValueError("sparse(tx, ...) needs the params in update(grads, state, params)")
        step = state.step + 1

        def mask_step(_: None) -> tuple[Tree, SparseState]:
            new_params, inner, mask = sparse_update(
                method,
                schedule,
                state.step,
                params,
                state.inner,
                state.mask,
                prunable,
                targets,
                state.key,
                grads,
                global_count,
            )
            updates = jax.tree_util.tree_map(lambda n, p: n - p, new_params, params)
            return updates, SparseState(inner, mask, step, state.key)

        def gradient_step(_: None) -> tuple[Tree, SparseState]:
            masked_grads = zero_where(grads, jax.tree_util.tree_map(lambda m: ~m, state.mask))
            updates, inner = tx.update(masked_grads, state.inner, params)
            updates = zero_where(updates, jax.tree_util.tree_map(lambda m: ~m, state.mask))
            return updates, SparseState(inner, state.mask, step, state.key)

        if method == "static":
            return gradient_step(None)
        out: tuple[Tree, SparseState] = jax.lax.cond(schedule.updates_after(state.step), mask_step, gradient_step, None)
        return out

    return optax.GradientTransformationExtraArgs(init, update)


def grown_of(old: Tree, new: Tree) -> Tree:
    return jax.tree_util.tree_map(lambda n, o: n & ~o, new, old)
