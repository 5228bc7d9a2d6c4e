"""Small gymnax wrappers the registry applies to environments by their facts.

- `BinaryObservation`: observations that are 0/1 by construction (MinAtar's screens) as bool, so
  replay stores them as packed bits (agents/replay.py) and the network casts them back to float.
- `with_sticky_actions`: gymnax's own `StickyActionWrapper` (the previous executed action is
  repeated with probability p). MinAtar's reference `Environment.act` does the same and, like the
  wrapper, keeps its last action across episode resets.
- `TimeLimitAsTermination`: an episode cut by the time limit reports `terminated`, so no agent
  bootstraps through it (rlpyt's PPO and DQN do not; the paper's SI B says MazeGrid "terminates
  after 200 timesteps").
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
from gymnax.environments import spaces
from gymnax.wrappers.purerl import GymnaxWrapper, StickyActionWrapper


class BinaryObservation(GymnaxWrapper):
    """The wrapped environment's observations (and `info["final_observation"]`) as bool."""

    def observation_space(self, params):
        inner = self._env.observation_space(params)
        return spaces.Box(0, 1, tuple(inner.shape), jnp.bool_)

    def reset(self, key, params=None):
        obs, state = self._env.reset(key, params)
        return obs.astype(jnp.bool_), state

    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, info = self._env.step(key, state, action, params)
        info = {**info, "final_observation": info["final_observation"].astype(jnp.bool_)}
        return obs.astype(jnp.bool_), state, reward, terminated, truncated, info


class TimeLimitAsTermination(GymnaxWrapper):
    """Time-limit truncations reported as terminations (`truncated` stays as it was)."""

    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, info = self._env.step(key, state, action, params)
        return obs, state, reward, jnp.logical_or(terminated, truncated), truncated, info


TIME_LIMITS = ("truncate", "terminate")


def with_time_limit(spec, time_limit: str):
    """`spec` whose time limit truncates (bootstrapped) or terminates (not bootstrapped)."""
    if time_limit == "truncate":
        return spec
    return dataclasses.replace(spec, env=TimeLimitAsTermination(spec.env), time_limit=time_limit)


def with_sticky_actions(spec, probability: float):
    """`spec` whose environment repeats its previous action with `probability` (0: unchanged)."""
    if probability == 0.0:
        return dataclasses.replace(spec, sticky_actions=0.0)
    return dataclasses.replace(spec, env=StickyActionWrapper(spec.env, probability), sticky_actions=float(probability))
