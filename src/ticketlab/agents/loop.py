"""The scaffolding every training program shares: best-checkpoint tracking, the training curve,
the evaluation cadence and the late-rewinding capture, in one place for PPO, DQN and BC, whatever
steps their environments.

A program's carry has `params`, `key` and `tracking` fields; after each of its steps (a PPO update,
a DQN iteration, a BC gradient step) it calls `after_step`, which captures the rewind point and,
every `eval_every` steps and after the last one, evaluates and keeps the best params. `runs` lifts
the per-run bookkeeping to what the program trains (envs/stepping.py: one run, or a block).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.output import TrainOutput
from ticketlab.envs.stepping import identity_runs


@struct.dataclass
class Interval:
    """The open interval of the training curve: the sum and count of what was recorded in it."""

    total: jax.Array
    count: jax.Array

    def add(self, total, count) -> "Interval":
        return Interval(self.total + total, self.count + count)


@struct.dataclass
class Tracking:
    best_params: Any
    best_return: jax.Array
    eval_returns: jax.Array
    """The return of each evaluation, in order."""
    train_curve: jax.Array
    """One value per evaluation interval: the mean of what `record` added in it (nan: nothing)."""
    interval: Interval
    rewind_params: Any
    """Params after `rewind_step` steps (late rewinding); the start params when there is none."""


@dataclass(frozen=True)
class Cadence:
    num_steps: int
    eval_every: int
    rewind_step: int = 0
    """Capture the params after this many steps (0: no capture)."""

    @property
    def num_evals(self) -> int:
        return -(-self.num_steps // self.eval_every)

    def evaluates_after(self, step_index):
        """Whether an evaluation follows step `step_index` (0-based; a Python int or a traced one)."""
        return ((step_index + 1) % self.eval_every == 0) | (step_index + 1 == self.num_steps)

    def captures_after(self, step_index):
        """Whether the rewind point is the params after step `step_index`."""
        return step_index + 1 == self.rewind_step


def fresh_tracking(params, num_evals: int) -> Tracking:
    return Tracking(
        best_params=params,
        best_return=jnp.array(-jnp.inf),
        eval_returns=jnp.zeros(num_evals),
        train_curve=jnp.zeros(num_evals),
        interval=Interval(jnp.zeros(()), jnp.zeros((), jnp.int32)),
        rewind_params=params,
    )


def record(tracking: Tracking, total, count) -> Tracking:
    """Add `count` values summing to `total` to the current interval of the training curve."""
    return tracking.replace(interval=tracking.interval.add(total, count))


def track_evaluation(tracking: Tracking, params, ret, slot) -> Tracking:
    """Record evaluation `slot`: keep `params` if `ret` is the best so far (ties go to the later,
    longer-trained checkpoint) and close the interval's training-curve value."""
    better = ret >= tracking.best_return
    best = jax.tree_util.tree_map(lambda n, o: jnp.where(better, n, o), params, tracking.best_params)
    interval = tracking.interval
    mean = jnp.where(interval.count > 0, interval.total / jnp.maximum(interval.count, 1), jnp.nan)
    return tracking.replace(
        best_params=best,
        best_return=jnp.maximum(ret, tracking.best_return),
        eval_returns=tracking.eval_returns.at[slot].set(ret),
        train_curve=tracking.train_curve.at[slot].set(mean),
        interval=jax.tree_util.tree_map(jnp.zeros_like, interval),
    )


def capture_rewind(tracking: Tracking, params, step_index, cadence: Cadence) -> Tracking:
    """Keep `params` as the rewind point if step `step_index` is the rewind step. Without late
    rewinding (static) it returns `tracking` as is: nothing is copied on the hot path."""
    if cadence.rewind_step == 0:
        return tracking
    captured = cadence.captures_after(step_index)
    return tracking.replace(rewind_params=jax.tree_util.tree_map(
        lambda new, old: jnp.where(captured, new, old), params, tracking.rewind_params))


def split2(key):
    return tuple(jax.random.split(key))


def after_step(carry, step_index, cadence: Cadence, evaluate: Callable, runs: Callable = identity_runs):
    """Rewind capture and evaluation after step `step_index` (0-based; the scan's unbatched
    input, so under vmap the evaluation stays a real branch). `evaluate(keys, carry) -> (carry,
    returns)`, with a key and a return per run."""
    tracking = runs(lambda t, p: capture_rewind(t, p, step_index, cadence))(carry.tracking, carry.params)
    carry = carry.replace(tracking=tracking)

    def run_evaluation(carry):
        key, k_eval = runs(split2)(carry.key)
        carry, ret = evaluate(k_eval, carry)
        slot = step_index // cadence.eval_every
        tracking = runs(lambda t, p, r: track_evaluation(t, p, r, slot))(carry.tracking, carry.params, ret)
        return carry.replace(key=key, tracking=tracking)

    return jax.lax.cond(cadence.evaluates_after(step_index), run_evaluation, lambda c: c, carry)


def train_output(params, t: Tracking, data_digest=None) -> TrainOutput:
    """One run's output: its final `params` and what `t` tracked."""
    return TrainOutput(
        best_params=t.best_params,
        best_return=t.best_return,
        final_params=params,
        final_return=t.eval_returns[-1],
        eval_returns=t.eval_returns,
        train_curve=t.train_curve,
        rewind_params=t.rewind_params,
        data_digest=jnp.zeros(()) if data_digest is None else data_digest,
    )
