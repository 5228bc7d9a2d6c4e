"""The scaffolding every training program shares: best-checkpoint tracking, the training curve,
the evaluation cadence and the late-rewinding capture, in one place for PPO, DQN and BC, whatever
steps their environments.

A program's carry has `params`, `key` and `tracking` fields; after each of its steps (a PPO update,
a DQN iteration, a BC gradient step) it calls `after_step`, which captures the rewind point and,
every `eval_every` steps and after the last one, evaluates and keeps the best params. `runs` lifts
the per-run bookkeeping to what the program trains (envs/stepping.py: one run, or a block).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.output import TrainOutput
from ticketlab.envs.stepping import identity_runs


class Interval(struct.PyTreeNode):
    """The open interval of the training curve: the sum and count of what was recorded in it."""

    total: jax.Array
    count: jax.Array

    def add(self, total, count) -> Interval:
        return Interval(self.total + total, self.count + count)


class Tracking(struct.PyTreeNode):
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
    return tracking.replace(
        rewind_params=jax.tree_util.tree_map(
            lambda new, old: jnp.where(captured, new, old), params, tracking.rewind_params
        )
    )


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


class Stage(struct.PyTreeNode):
    """What a training's stages hand on (`begin`, `advance` a number of steps, `end`): `carry`, the
    whole training state (what a mid-level checkpoint saves), and `derived`, what `begin` computes
    from its inputs alone (BC's expert data), recomputed on resume, never saved."""

    carry: Any
    derived: Any = ()


@dataclass(frozen=True)
class Stages:
    """A training as stages: `begin(envs, keys, start, mask) -> Stage`, `advance(envs, stage, keys,
    mask, first, count) -> Stage` for steps first .. first + count - 1, `end(envs, stage) ->
    TrainOutput`, and `steps` in all (PPO updates, DQN and SAC iterations, BC epochs). Segments of
    any length give the same bits as one of all steps (tests/test_segments.py), so the engine
    advances a block in segments and may save its carry between them."""

    begin: Callable
    advance: Callable
    end: Callable
    steps: int

    def train(self, envs, keys, start, mask) -> TrainOutput:
        """The whole training in one segment."""
        stage = self.begin(envs, keys, start, mask)
        return self.end(envs, self.advance(envs, stage, keys, mask, 0, self.steps))


def steps(body: Callable, state, first, count):
    """`body(step_index, state) -> state` for the steps `first` .. `first + count - 1`, their bounds
    traced: one compiled program advances any segment."""
    return jax.lax.fori_loop(first, first + count, body, state)


def runner_stages(first_runner: Callable, step: Callable, num_steps: int) -> Stages:
    """The stages of a training whose carry is one runner (with `params` and `tracking`):
    `first_runner(envs, keys, start, mask)`, then `step(envs, keys, mask)(step_index, runner) ->
    runner` for each of `num_steps` steps, its output the runner's params and what it tracked."""

    def begin(envs, keys, start, mask) -> Stage:
        return Stage(first_runner(envs, keys, start, mask))

    def advance(envs, stage: Stage, keys, mask, first, count) -> Stage:
        return stage.replace(carry=steps(step(envs, keys, mask), stage.carry, first, count))

    def end(envs, stage: Stage) -> TrainOutput:
        return envs.runs(train_output)(stage.carry.params, stage.carry.tracking)

    return Stages(begin, advance, end, num_steps)


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
