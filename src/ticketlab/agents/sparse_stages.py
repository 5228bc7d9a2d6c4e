"""An agent's training with a mask that changes while it trains (the sparse-training conditions
gmp, set, rigl and static; pruning/sparse_training.py): the agent's own stages advanced one step
at a time with the current mask, and after each step the method's mask update (dropped weights
zeroed, grown ones at zero with zeroed optimizer moments). The mask the engine hands in says each
layer's target count: the initial mask of set, rigl and static; for gmp, which starts dense, only
its counts. The best checkpoint is tracked with the mask it had; gmp's counts only from the step
its pruning ends, when it reaches the level's density.

RigL grows where |dL/dw| is largest, dL/dw the gradient at the sparse params of the agent's own
loss on a fresh batch (`Agent.batch_loss`, as SNIP's; Graesser et al. use the training batch's),
with respect to every weight, pruned ones included.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.base import Agent
from ticketlab.agents.loop import Stage, Stages
from ticketlab.core.config import ExperimentConfig
from ticketlab.pruning.masks import Tree, apply_mask
from ticketlab.pruning.sparse_training import SparseSchedule, layer_counts, sparse_update


class SparseCarry(struct.PyTreeNode):
    mask: Any
    best_mask: Any
    targets: jax.Array
    """Each prunable layer's final live count."""
    total: jax.Array
    """Their sum (gmp under the global allocation ranks all layers at once)."""


def schedule_of(method: str, cfg: ExperimentConfig, steps: int) -> SparseSchedule:
    s = cfg.sparse
    start = s.start if method == "gmp" else 0.0
    return SparseSchedule.of(steps, start, s.end, s.update_every, s.drop_fraction, s.drop_schedule)


def sparse_stages(base: Stages, agent: Agent, cfg: ExperimentConfig, method: str, prunable: Tree) -> Stages:
    """`base` (an agent's stages, one run's) with `method`'s mask updates between its steps."""
    schedule = schedule_of(method, cfg, base.steps)
    ranks_globally = cfg.sparse.allocation == "global"
    loss = agent.batch_loss

    def begin(envs: Any, keys: Any, start: Tree, target: Tree) -> Stage:
        mask = jax.tree_util.tree_map(jnp.ones_like, target) if method == "gmp" else target
        stage = base.begin(envs, keys, start, mask)
        counts = layer_counts(target, prunable)
        return stage.replace(carry=(stage.carry, SparseCarry(mask, mask, counts, jnp.sum(counts))))

    def one_step(envs: Any, keys: Any, t: jax.Array, stage: Stage) -> Stage:
        inner, sparse = stage.carry
        previous_best = inner.tracking.best_params
        inner = base.advance(envs, stage.replace(carry=inner), keys, sparse.mask, t, 1).carry
        improved = jax.tree_util.tree_reduce(
            jnp.logical_or,
            jax.tree_util.tree_map(lambda a, b: jnp.any(a != b), inner.tracking.best_params, previous_best),
            jnp.array(False),
        )
        best_mask = jax.tree_util.tree_map(lambda m, b: jnp.where(improved, m, b), sparse.mask, sparse.best_mask)
        grads = None
        if method == "rigl":  # the dense gradient, drawn only at the steps that update the mask
            if loss is None:
                raise ValueError("rigl needs the agent's loss on a batch (validate refuses it otherwise)")
            k_batch, k_data = jax.random.split(jax.random.fold_in(keys.train, t))

            def dense_gradient(params: Tree) -> Tree:
                ones = ones_like_mask(sparse.mask)
                return jax.grad(lambda w: loss(k_batch, k_data, w, ones))(apply_mask(params, sparse.mask))

            grads = jax.lax.cond(
                schedule.updates_after(t),
                dense_gradient,
                lambda p: jax.tree_util.tree_map(jnp.zeros_like, p),
                inner.params,
            )
        params, opt_state, mask = sparse_update(
            method,
            schedule,
            t,
            inner.params,
            inner.opt_state,
            sparse.mask,
            prunable,
            sparse.targets,
            keys.train,
            grads,
            sparse.total if ranks_globally else None,
        )
        inner = inner.replace(params=params, opt_state=opt_state)
        if method == "gmp":  # only checkpoints at the level's density compete for the best
            reached = (t + 1) == schedule.end
            tracking = inner.tracking.replace(best_return=jnp.where(reached, -jnp.inf, inner.tracking.best_return))
            inner = inner.replace(tracking=tracking)
        return stage.replace(carry=(inner, SparseCarry(mask, best_mask, sparse.targets, sparse.total)))

    def advance(envs: Any, stage: Stage, keys: Any, mask: Tree, first: jax.Array, count: jax.Array) -> Stage:
        return jax.lax.fori_loop(first, first + count, lambda t, st: one_step(envs, keys, t, st), stage)

    def end(envs: Any, stage: Stage) -> Any:
        inner, sparse = stage.carry
        out = base.end(envs, stage.replace(carry=inner))
        return out.replace(best_mask=sparse.best_mask)

    return Stages(begin, advance, end, base.steps)


def ones_like_mask(mask: Tree) -> Tree:
    return jax.tree_util.tree_map(jnp.ones_like, mask)
