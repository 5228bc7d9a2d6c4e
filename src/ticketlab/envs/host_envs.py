"""The host backend: Gymnasium environments (any `gymnasium:<id>`, the PyBullet walkers) stepped in
Python, inside the compiled training program, through ordered host callbacks (`io_callback`).

A program trains a whole block of runs: run r steps its own `HostVectorEnv` of `num_envs` copies,
seeded from r's key (`host_seed`), so a run's numbers do not depend on its block. Each evaluation
plays `eval_episodes` episodes per run on fresh copies seeded from the run's evaluation key, step t's
actions drawn with that key folded with t. Rewards reach the program as float32.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax.experimental import io_callback

from ticketlab.core.errors import ConfigError
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.host import HostVectorEnv
from ticketlab.envs.stepping import EnvStep, ProgramEnvs, count_episodes, episode_returns, vmap_runs


def host_seed(key) -> jax.Array:
    """A Gymnasium seed drawn from a run's own key (identity, not batch position)."""
    return jax.random.randint(key, (), 0, 2**31 - 1)


class HostState(struct.PyTreeNode):
    episode_return: jax.Array
    """The return so far of each running episode [R, E] (the environments themselves live in Python)."""


class HostEnvs(ProgramEnvs):
    """The Gymnasium environments of a block of `runs` runs, stepped through host callbacks."""

    runs = staticmethod(vmap_runs)

    def __init__(self, spec: EnvSpec, num_envs: int, eval_episodes: int, runs: int):
        self.spec, self.num_envs, self.eval_episodes, self.num_runs = spec, int(num_envs), int(eval_episodes), int(runs)
        self.train_envs: list[HostVectorEnv] = []
        self.eval_envs: list[HostVectorEnv] = []
        kept = np.dtype(spec.obs_dtype) in (np.dtype(np.bool_), np.dtype(np.uint8))  # as HostVectorEnv returns them
        self.obs_dtype = np.dtype(spec.obs_dtype) if kept else np.dtype(np.float32)
        if spec.discrete:
            self.action = jax.ShapeDtypeStruct((self.num_runs, self.num_envs), jnp.int32)
        else:
            self.action = jax.ShapeDtypeStruct((self.num_runs, self.num_envs, spec.action_dim), jnp.float32)

    def by_run(self, tree):
        return jax.tree_util.tree_map(lambda x: jnp.swapaxes(x, 0, 1), tree)

    def _obs(self, copies: int) -> jax.ShapeDtypeStruct:
        return jax.ShapeDtypeStruct((self.num_runs, copies) + tuple(self.spec.raw_obs_shape), self.obs_dtype)

    def _flags(self, copies: int) -> jax.ShapeDtypeStruct:
        return jax.ShapeDtypeStruct((self.num_runs, copies), jnp.bool_)

    def reset(self, key):
        seeds = jax.vmap(host_seed)(key)
        obs = io_callback(self._reset_train, self._obs(self.num_envs), seeds, ordered=True)
        return HostState(jnp.zeros((self.num_runs, self.num_envs))), obs

    def step(self, state: HostState, key, action):
        E = self.num_envs
        result = (
            self._obs(E),
            jax.ShapeDtypeStruct((self.num_runs, E), jnp.float32),
            self._flags(E),
            self._flags(E),
            self._obs(E),
        )
        obs, reward, terminated, truncated, final_obs = io_callback(self._step_train, result, action, ordered=True)
        done = jnp.logical_or(terminated, truncated)
        if self.spec.time_limit == "terminate":  # as gymnax's TimeLimitAsTermination: no bootstrap
            terminated = done
        episode_return, total, count = jax.vmap(count_episodes)(state.episode_return, reward, done)
        return HostState(episode_return), EnvStep(
            obs=obs,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=final_obs,
            valid=None,
            finished_total=total,
            finished_count=count,
        )

    def evaluate(self, state, key, policy, params):
        n = self.eval_episodes
        k_seed, k_act = jax.vmap(lambda k: tuple(jax.random.split(k)))(key)
        obs = io_callback(self._reset_eval, self._obs(n), jax.vmap(host_seed)(k_seed), ordered=True)
        result = (self._obs(n), jax.ShapeDtypeStruct((self.num_runs, n), jnp.float32), self._flags(n))

        def step(t, obs):
            keys = jax.vmap(lambda k: jax.random.fold_in(k, t))(k_act)
            action, _ = jax.vmap(policy)(params, keys, obs)
            return io_callback(self._step_eval, result, action, ordered=True)

        _, total = episode_returns(step, obs, self.spec.max_episode_steps, (self.num_runs, n))
        return state, total.mean(axis=1)

    # -- the Python side of the callbacks ---------------------------------------------------------

    def _open(self, copies: int, seeds) -> list[HostVectorEnv]:
        return [HostVectorEnv(self.spec.host_id, copies, int(seed)) for seed in np.asarray(seeds)]

    def _reset_train(self, seeds):
        _close(self.train_envs)
        self.train_envs = self._open(self.num_envs, seeds)
        return np.stack([env.reset() for env in self.train_envs]).astype(self.obs_dtype)

    def _step_train(self, action):
        steps = [env.step(a) for env, a in zip(self.train_envs, np.asarray(action))]
        obs, reward, terminated, truncated, final_obs = (np.stack(x) for x in zip(*steps))
        return (
            obs.astype(self.obs_dtype),
            reward.astype(np.float32),
            terminated,
            truncated,
            final_obs.astype(self.obs_dtype),
        )

    def _reset_eval(self, seeds):
        _close(self.eval_envs)
        self.eval_envs = self._open(self.eval_episodes, seeds)
        return np.stack([env.reset() for env in self.eval_envs]).astype(self.obs_dtype)

    def _step_eval(self, action):
        steps = [env.step(a) for env, a in zip(self.eval_envs, np.asarray(action))]
        obs, reward, terminated, truncated, _ = (np.stack(x) for x in zip(*steps))
        return obs.astype(self.obs_dtype), reward.astype(np.float32), terminated | truncated

    def close(self) -> None:
        _close(self.train_envs)
        _close(self.eval_envs)
        self.train_envs, self.eval_envs = [], []


def _close(envs) -> None:
    for env in envs:
        env.close()


def configure(spec: EnvSpec, env_cfg) -> EnvSpec:
    """Host environments run as Gymnasium makes them, without sticky actions; their time limit
    truncates, or terminates (env.time-limit terminate: reported as a termination too)."""
    if env_cfg.sticky_actions not in (-1.0, 0.0):
        raise ConfigError(
            "env.sticky-actions",
            f"sticky actions need discrete actions of a gymnax environment; "
            f"{spec.id} allows only 0 (or -1, its default)",
        )
    return dataclasses.replace(spec, time_limit=env_cfg.time_limit)
