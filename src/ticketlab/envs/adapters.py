"""How an environment registered by a user meets the engine's gymnax 1.0 API, and the one check it
gets before anything trains.

The engine steps `reset(key, params) -> (obs, state)` and the six-value
`step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)` with
auto-reset and `info["final_observation"]` (gymnax 1.0). Pure-JAX suites written against gymnax
before 1.0, or in its image (Craftax, XLand-MiniGrid's gymnax adapters), return five values,
`(obs, state, reward, done, info)`, and some name the episode limit otherwise (Craftax:
`max_timesteps`). `FiveValueStep` turns such an environment into the six-value API by one rule:

- it steps the environment's `step_env` / `reset_env` where it has both (gymnax's base class
  before 1.0 and Craftax's: no reset of their own), else its `step` / `reset`, which must then
  not reset by themselves (Craftax: `auto_reset=False`), so the final observation is the real one;
- it counts the steps of each episode: an episode that reaches `max_steps` steps is truncated
  (bootstrapped through, unless env.time-limit is terminate), even where the environment's own
  `done` says so at that step (the five values cannot tell a time-out from a termination there);
  a `done` before that is a termination;
- an ended episode is reset with the step's second key, as gymnax 1.0 does.

`check_env` runs `reset` and one `step` under `jax.eval_shape` (nothing is computed) and answers a
broken environment with one line naming what is missing and the `register_env` argument that fixes
it, never a traceback from inside the environment.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.wrappers.purerl import GymnaxWrapper

from ticketlab.core.errors import ConfigError

STEP_ARITIES = (5, 6)
"""The step results the engine accepts: five (obs, state, reward, done, info), six (gymnax 1.0)."""
SPACES = ("reset", "step", "observation_space", "action_space")
"""What an environment must have, gymnax's names."""


class EpisodeState(struct.PyTreeNode):
    env: Any
    """The wrapped environment's own state."""
    time: jax.Array
    """Steps taken in the running episode."""


class FiveValueStep(GymnaxWrapper):
    """A five-value environment as gymnax 1.0's six-value, auto-resetting API (the rule above)."""

    def __init__(self, env: Any, max_steps: int):
        super().__init__(env)
        self.max_steps = int(max_steps)
        own = hasattr(env, "step_env") and hasattr(env, "reset_env")
        self._step, self._reset = (env.step_env, env.reset_env) if own else (env.step, env.reset)

    def reset(self, key, params=None):
        obs, state = self._reset(key, params)
        return obs, EpisodeState(state, jnp.zeros((), jnp.int32))

    def step(self, key, state: EpisodeState, action, params=None):
        k_step, k_reset = jax.random.split(key)
        obs_st, env_st, reward, done, info = self._step(k_step, state.env, action, params)
        time = state.time + 1
        truncated = time >= self.max_steps
        terminated = jnp.logical_and(jnp.asarray(done, jnp.bool_), jnp.logical_not(truncated))
        ended = jnp.logical_or(terminated, truncated)
        obs_re, env_re = self._reset(k_reset, params)
        env_state = jax.tree.map(lambda r, s: jax.lax.select(ended, r, s), env_re, env_st)
        obs = jax.tree.map(lambda r, s: jax.lax.select(ended, r, s), obs_re, obs_st)
        info = {**info, "terminated": terminated, "truncated": truncated, "final_observation": obs_st}
        time = jnp.where(ended, 0, time).astype(jnp.int32)
        return obs, EpisodeState(env_state, time), jnp.asarray(reward, jnp.float32), terminated, truncated, info


def _refuse(env_id: str, message: str) -> ConfigError:
    return ConfigError("register_env", f"{env_id}: {message}")


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _is_array(x: Any) -> bool:
    return isinstance(x, jax.ShapeDtypeStruct)


def episode_limit(env_id: str, params: Any, max_episode_steps: int | None) -> int:
    """The episode limit: `max_episode_steps` where given, else the params' `max_steps_in_episode`."""
    own = getattr(params, "max_steps_in_episode", None)
    if max_episode_steps is not None:
        if own is not None and int(own) != int(max_episode_steps):
            raise _refuse(
                env_id,
                f"max_episode_steps={max_episode_steps} disagrees with the params' max_steps_in_episode={own}; "
                "leave max_episode_steps out",
            )
        if int(max_episode_steps) < 1:
            raise _refuse(env_id, f"max_episode_steps must be >= 1, got {max_episode_steps}")
        return int(max_episode_steps)
    if own is None:
        raise _refuse(
            env_id,
            f"the params ({type(params).__name__}) carry no max_steps_in_episode; "
            "pass the episode limit as register_env(..., max_episode_steps=N)",
        )
    return int(own)


def check_env(env_id: str, made: Any, max_episode_steps: int | None) -> tuple[Any, Any, int]:
    """`(env, params, limit)` of what a registered factory made, the environment in gymnax 1.0's
    six-value API: its reset and one step traced by `jax.eval_shape`; a one-line `ConfigError`
    naming what is missing otherwise."""
    if not (isinstance(made, tuple) and len(made) == 2):
        raise _refuse(env_id, f"the factory must return (env, env_params), got {type(made).__name__}")
    env, params = made
    missing = [name for name in SPACES if not callable(getattr(env, name, None))]
    if missing:
        raise _refuse(env_id, f"the environment has no {', '.join(missing)}; gymnax's API needs {', '.join(SPACES)}")
    limit = episode_limit(env_id, params, max_episode_steps)
    key = jax.random.PRNGKey(0)
    try:
        space = env.observation_space(params)
        reset = jax.eval_shape(env.reset, key, params)
    except Exception as error:  # the user's code: its own error, cut to one line
        raise _refuse(env_id, f"reset(key, params) fails: {_one_line(error)}") from None
    if not (isinstance(reset, tuple) and len(reset) == 2):
        raise _refuse(env_id, "reset(key, params) must return (obs, state)")
    obs, state = reset
    if not _is_array(obs):
        kind = type(obs).__name__
        raise _refuse(
            env_id,
            f"the observation is a {kind} of arrays, not one array; flatten it to one array in a wrapper",
        )
    if tuple(obs.shape) != tuple(space.shape):
        raise _refuse(env_id, f"reset's observation has shape {tuple(obs.shape)}, observation_space says {space.shape}")
    action = jax.ShapeDtypeStruct(tuple(env.action_space(params).shape), env.action_space(params).dtype)
    try:
        stepped = jax.eval_shape(env.step, key, state, action, params)
    except Exception as error:
        raise _refuse(env_id, f"step(key, state, action, params) fails: {_one_line(error)}") from None
    arity = len(stepped) if isinstance(stepped, tuple) else 1
    if arity not in STEP_ARITIES:
        raise _refuse(
            env_id,
            f"step returns {arity} values; allowed: 6 (obs, state, reward, terminated, truncated, info) "
            "or 5 (obs, state, reward, done, info)",
        )
    if arity == 6 and not (isinstance(stepped[5], dict) and "final_observation" in stepped[5]):
        raise _refuse(
            env_id,
            "step's info has no final_observation (gymnax 1.0's auto-reset puts the observation before the reset "
            "there); return 5 values without resetting instead, and ticketlab resets",
        )
    return adapt(env, arity, limit), params, limit


def adapt(env: Any, arity: int, limit: int) -> Any:
    """The environment in the six-value API: itself, or wrapped by `FiveValueStep`."""
    return FiveValueStep(env, limit) if arity == 5 else env


def step_arity(env: Any) -> int:
    """6 for an environment `check_env` left as it was, 5 for one it wrapped."""
    return 5 if isinstance(env, FiveValueStep) else 6
