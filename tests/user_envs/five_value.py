"""Environments in the image of the pure-JAX suites that are not gymnax 1.0 (Craftax, gymnax before
1.0): a five-value `step` (obs, state, reward, done, info), params that call the episode limit
`max_timesteps`, no gymnax base class. And deliberately broken ones, each missing one thing.

A corridor of 5 cells: the agent starts at 0 and is paid 1 for reaching cell 4, -0.01 per other
step. The observation is (position / 4, a uniform noise dimension).

Tests import this module by name (`--env.module five_value`)."""

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces

import ticketlab

GOAL = 4


@struct.dataclass
class Params:
    max_timesteps: int = 6  # Craftax's name for the limit: register_env must be told it


@struct.dataclass
class State:
    position: jax.Array


def _obs(position, key):
    return jnp.array([position / GOAL, jax.random.uniform(key)], jnp.float32)


class FiveValueCorridor:
    """`step` returns five values and never resets (as Craftax's with auto_reset=False)."""

    default_params = Params()

    def reset(self, key, params):
        return _obs(jnp.int32(0), key), State(jnp.int32(0))

    def step(self, key, state, action, params):
        position = jnp.clip(state.position + 2 * action - 1, 0, GOAL)
        done = position == GOAL
        return _obs(position, key), State(position), jnp.where(done, 1.0, -0.01), done, {}

    def observation_space(self, params):
        return spaces.Box(0.0, 1.0, (2,), jnp.float32)

    def action_space(self, params):
        return spaces.Discrete(2)


class ResettingCorridor(FiveValueCorridor):
    """gymnax before 1.0: `step` resets by itself; `step_env` and `reset_env` do not."""

    reset_env = FiveValueCorridor.reset
    step_env = FiveValueCorridor.step

    def step(self, key, state, action, params):
        obs, state, reward, done, info = self.step_env(key, state, action, params)
        obs_re, state_re = self.reset_env(key, params)
        return (
            jnp.where(done, obs_re, obs),
            jax.tree.map(lambda a, b: jnp.where(done, a, b), state_re, state),
            reward,
            done,
            info,
        )


class NoLimitParams(FiveValueCorridor):
    def reset(self, key, params):
        return _obs(jnp.int32(params.max_steps_in_episode * 0), key), State(jnp.int32(0))


class FourValues(FiveValueCorridor):
    def step(self, key, state, action, params):
        return super().step(key, state, action, params)[:4]


class DictObservation(FiveValueCorridor):
    def reset(self, key, params):
        obs, state = super().reset(key, params)
        return {"position": obs[:1], "noise": obs[1:]}, state


class NoActionSpace(FiveValueCorridor):
    action_space: Any = None


class SixValuesNoFinal(FiveValueCorridor):
    def step(self, key, state, action, params):
        obs, state, reward, done, info = super().step(key, state, action, params)
        return obs, state, reward, done, jnp.zeros((), bool), info


def register(env_id, env, **kwargs):
    ticketlab.register_env(env_id, lambda: (env, env.default_params), replace=True, **kwargs)


names = dict(obs_names=("position", "noise"), return_floor=-0.06)
register("FiveValueCorridor-v0", FiveValueCorridor(), max_episode_steps=6, **names)
register("ResettingCorridor-v0", ResettingCorridor(), max_episode_steps=6, **names)
BROKEN = {
    "NoLimit-v0": (FiveValueCorridor(), {}),
    "WrongLimit-v0": (FiveValueCorridor(), {"max_episode_steps": 0}),
    "ResetFails-v0": (NoLimitParams(), {"max_episode_steps": 6}),
    "FourValues-v0": (FourValues(), {"max_episode_steps": 6}),
    "DictObservation-v0": (DictObservation(), {"max_episode_steps": 6}),
    "NoActionSpace-v0": (NoActionSpace(), {"max_episode_steps": 6}),
    "SixValuesNoFinal-v0": (SixValuesNoFinal(), {"max_episode_steps": 6}),
}
for _id, (_env, _kwargs) in BROKEN.items():
    register(_id, _env, **_kwargs)
ticketlab.register_env("NotATuple-v0", lambda: FiveValueCorridor(), replace=True)
