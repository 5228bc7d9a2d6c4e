"""How a training program steps its environments, whatever steps them.

An algorithm's environment loop is written once, against `Envs`: the environments one compiled
program steps (`num_envs` copies per run), made by the environment's backend (envs/backends.py). A
backend whose environments are pure functions of their keys (gymnax) gives the environments of one
run, and the program is vmapped over a block's runs; a backend whose environments are effects (an
emulator behind an FFI call, Python environments behind a host callback) gives a whole block's, and
the program lifts its per-run functions over the block itself (`Envs.runs`). Either way the agent
sees the same four operations: reset, step, evaluate, and `runs`.

`episode_returns` is the episode loop every evaluation shares: episodes stepped together until each
has ended, the rewards after an episode's first end ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import jax
import jax.numpy as jnp
from flax import struct


class EnvStep(struct.PyTreeNode):
    """What one step of a program's environments gives the agent ([E] per run; [R, E] for a block)."""

    obs: Any
    """The next observation (an environment whose episode ended has been reset already, or is reset
    on the next step: see `final_obs`)."""
    reward: jax.Array
    """The reward the agent learns from (an ALE game's clipped to its sign)."""
    terminated: jax.Array
    truncated: jax.Array
    final_obs: Any
    """The observation the action led to, before any reset; None where the backend resets an
    ended environment on the next step (its observation after this step is then the final one)."""
    valid: Any
    """None, or False on the steps that only reset an ended environment (their action was ignored)."""
    finished_total: jax.Array
    finished_count: jax.Array
    """The sum and the count of the returns of the episodes that ended in this step (per run): what
    the training curve averages."""


def identity_runs(fn: Callable, in_axes: Any = 0) -> Callable:
    """`Envs.runs` of a program that trains one run: the function itself."""
    return fn


def vmap_runs(fn: Callable, in_axes: Any = 0) -> Callable:
    """`Envs.runs` of a program that trains a whole block: the function vmapped over its runs."""
    return jax.vmap(fn, in_axes=in_axes)


class Envs(Protocol):
    """The environments of one training program: `num_envs` copies per run, and `eval_episodes`
    evaluation episodes per run and evaluation (`ProgramEnvs` has the defaults)."""

    runs: Callable
    """`runs(fn, in_axes=0)`: a per-run function lifted to what this program trains (itself for one
    run; vmapped for a block)."""

    def by_run(self, tree: Any) -> Any:
        """A scan's stacked outputs ([T, ...] of what `runs` returns) with each run's leading: [T, E]
        for one run as it is, [T, R, E] as [R, T, E]."""

    def reset(self, key) -> tuple[Any, Any]:
        """(state, first observations) of every environment; `key` of each run."""

    def step(self, state, key, action) -> tuple[Any, EnvStep]:
        """One step of every environment with the env `action`s; `key` of each run."""

    def evaluate(self, state, key, policy: Callable, params) -> tuple[Any, jax.Array]:
        """(state, each run's mean return of `eval_episodes` whole episodes of `policy(params,
        step_key, obs) -> (env action, key)`), `key` of each run."""

    def evaluation_state(self) -> Any:
        """The state `evaluate` needs when the program has reset nothing (an expert's re-evaluation)."""

    def inputs(self) -> Any:
        """What the compiled program takes as arguments for these environments (ALE: the handles)."""

    def bound(self, inputs) -> Envs:
        """These environments as seen inside the program, from its (traced) `inputs`."""

    def close(self) -> None:
        """Release what a program left open (Python environments) after it returned."""


class ProgramEnvs:
    """The defaults of `Envs`: no state for evaluation, nothing passed to the program, nothing to close."""

    def evaluation_state(self) -> Any:
        return None

    def inputs(self) -> Any:
        return ()

    def bound(self, inputs) -> ProgramEnvs:
        return self

    def close(self) -> None:
        pass


def episode_returns(step, env_carry, max_steps: int, shape):
    """(env_carry, undiscounted returns [shape]) of episodes stepped together until each has ended
    or `max_steps` steps have passed; rewards after an episode's first end are ignored.
    `step(t, env_carry) -> (env_carry, reward [shape], ended [shape])` steps every episode once."""

    def body(carry):
        t, env_carry, alive, total = carry
        env_carry, reward, ended = step(t, env_carry)
        total = total + reward.astype(jnp.float32) * alive
        alive = alive * (1.0 - ended.astype(jnp.float32))
        return t + 1, env_carry, alive, total

    def running(carry):
        t, _, alive, _ = carry
        return jnp.logical_and(t < max_steps, jnp.any(alive > 0))

    init = (jnp.zeros((), jnp.int32), env_carry, jnp.ones(shape), jnp.zeros(shape))
    _, env_carry, _, total = jax.lax.while_loop(running, body, init)
    return env_carry, total


def count_episodes(episode_return, reward, done):
    """Add one step's rewards to the running episode returns: (returns with ended episodes restarted
    at 0, sum of the returns that ended, how many ended)."""
    episode_return = episode_return + reward
    total, count = jnp.sum(jnp.where(done, episode_return, 0.0)), jnp.sum(done)
    return jnp.where(done, 0.0, episode_return), total, count
