"""The gymnax backend: environments with gymnax 1.0's pure functional API (`reset(key, params)`,
six-value `step(key, state, action, params)` with auto-reset), stepped inside the compiled program.

A program trains one run on `num_envs` copies (`GymnaxEnvs`) and is vmapped over a block's runs;
each copy's reset and step draw from keys split from the run's own key, so a run draws the same
numbers alone, in any block, or resumed. Sticky actions and the time limit's meaning are gymnax
wrappers (envs/wrappers.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.core.errors import ConfigError
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.stepping import EnvStep, ProgramEnvs, count_episodes, episode_returns, identity_runs
from ticketlab.envs.wrappers import with_sticky_actions, with_time_limit


class GymnaxState(struct.PyTreeNode):
    env: Any
    """The gymnax states of the run's copies [E]."""
    episode_return: jax.Array
    """The return so far of each copy's running episode [E]."""


class GymnaxEnvs(ProgramEnvs):
    """`num_envs` copies of a gymnax-API environment for one run of a program vmapped over runs."""

    runs = staticmethod(identity_runs)

    def __init__(self, spec: EnvSpec, num_envs: int, eval_episodes: int, runs: int | None = None):
        self.spec, self.num_envs, self.eval_episodes = spec, int(num_envs), int(eval_episodes)

    def by_run(self, tree):
        return tree

    def reset(self, key):
        spec, E = self.spec, self.num_envs
        obs, state = jax.vmap(spec.env.reset, in_axes=(0, None))(jax.random.split(key, E), spec.params)
        return GymnaxState(state, jnp.zeros(E)), obs

    def step(self, state: GymnaxState, key, action):
        spec, E = self.spec, self.num_envs
        obs, env_state, reward, terminated, truncated, info = jax.vmap(spec.env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(key, E), state.env, action, spec.params
        )
        done = jnp.logical_or(terminated, truncated)
        episode_return, total, count = count_episodes(state.episode_return, reward, done)
        return GymnaxState(env_state, episode_return), EnvStep(
            obs=obs,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=info["final_observation"],
            valid=None,
            finished_total=total,
            finished_count=count,
        )

    def evaluate(self, state, key, policy, params):
        return state, evaluate_episodes(key, partial(policy, params), self.spec, self.eval_episodes)


def evaluate_episodes(key, act, spec: EnvSpec, num_episodes: int):
    """Mean undiscounted return of `num_episodes` episodes run to their end (at most
    `spec.max_episode_steps` steps; rewards after an episode's first termination or truncation are
    ignored). `act(step_key, obs_batch) -> (env_actions, step_key)` may draw from `step_key`
    (sampling, exploration) and returns the key left for the environment.

    The loop stops when every episode has ended (under vmap: every run's), so short episodes cost
    short evaluations; step t always uses the t-th of the same pre-split keys, so where it stops
    changes nothing in the returns."""
    env, env_params = spec.env, spec.params
    k_reset, k_steps = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), env_params)
    step_keys = jax.random.split(k_steps, spec.max_episode_steps)

    def step(t, env_carry):
        obs, state = env_carry
        action, step_key = act(step_keys[t], obs)
        keys = jax.random.split(step_key, num_episodes)
        obs, state, reward, terminated, truncated, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            keys, state, action, env_params
        )
        return (obs, state), reward, jnp.logical_or(terminated, truncated)

    _, total = episode_returns(step, (obs, state), spec.max_episode_steps, (num_episodes,))
    return total.mean()


def configure(spec: EnvSpec, env_cfg) -> EnvSpec:
    """The config's sticky actions (-1: the environment's own default) and time-limit semantics, as
    gymnax wrappers."""
    probability = spec.default_sticky_actions if env_cfg.sticky_actions == -1.0 else env_cfg.sticky_actions
    if probability and not spec.discrete:
        raise ConfigError(
            "env.sticky-actions", f"sticky actions need discrete actions; {spec.id} allows only 0 (or -1, its default)"
        )
    return with_sticky_actions(with_time_limit(spec, env_cfg.time_limit), probability)
