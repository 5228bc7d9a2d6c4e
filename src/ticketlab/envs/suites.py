"""What the pure-JAX suites by id share (Craftax, XLand-MiniGrid, Jumanji: envs/craftax_suite.py,
envs/xminigrid_suite.py, envs/jumanji_suite.py): the one rule that flattens an observation made of
several arrays, with names; the dm_env-style adapter (a `TimeStep` with step type and discount) to
gymnax 1.0's six-value API; and the one-line answers to a missing extra or an unknown id.

The flattening rule (`Field`): an observation of several arrays (a NamedTuple, a dict) becomes one
float32 vector, its fields in the suite's declared order, each cast to float32, divided by its
`scale` and flattened in C order. Names: a scalar field is its name; a vector `name: item` (or
`name[i]`); a grid `name (row,col)` with `: channel` where its last axis has channel names. Each
input also carries a group (`EnvSpec.obs_groups`): a grid's channel (`name: channel`), or the field's
name, which the grouped input figure sums over.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces

from ticketlab.core.errors import ConfigError


class SuiteParams(struct.PyTreeNode):
    """The params a suite's environment is stepped with: only its episode limit (the suite's own
    settings live in the adapter, fixed per id)."""

    max_steps_in_episode: int = struct.field(pytree_node=False, default=0)


@dataclass(frozen=True)
class Field:
    """One array of an observation: its name, shape, the divisor that brings it to about [0, 1],
    and the names of a grid's channels (its last axis) or of a vector's items."""

    name: str
    shape: tuple[int, ...]
    scale: float = 1.0
    items: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def names(self) -> tuple[str, ...]:
        if not self.shape:
            return (self.name,)
        if len(self.shape) == 1:
            labels = self.items or tuple(str(i) for i in range(self.shape[0]))
            return tuple(f"{self.name}: {x}" if self.items else f"{self.name}[{x}]" for x in labels)
        cells = [(r, c) for r in range(self.shape[0]) for c in range(self.shape[1])]
        if len(self.shape) == 2:
            return tuple(f"{self.name} ({r},{c})" for r, c in cells)
        labels = self.items or tuple(str(k) for k in range(self.shape[2]))
        return tuple(f"{self.name} ({r},{c}): {k}" for r, c in cells for k in labels)

    def groups(self) -> tuple[str, ...]:
        if len(self.shape) == 3:
            labels = self.items or tuple(str(k) for k in range(self.shape[2]))
            return tuple(f"{self.name}: {k}" for _ in range(self.shape[0] * self.shape[1]) for k in labels)
        return (self.name,) * self.size


def names_of(fields: Sequence[Field]) -> tuple[str, ...]:
    return tuple(n for f in fields for n in f.names())


def groups_of(fields: Sequence[Field]) -> tuple[str, ...]:
    return tuple(g for f in fields for g in f.groups())


def flatten(fields: Sequence[Field], arrays: Sequence[Any]) -> jax.Array:
    """The fields' arrays (in the fields' order) as one float32 vector, by the rule above."""
    return jnp.concatenate([jnp.asarray(a, jnp.float32).reshape(-1) / f.scale for f, a in zip(fields, arrays)])


def require(package: str, extra: str, env_id: str) -> Any:
    """The suite's package, or one line naming the `pip install` that brings it."""
    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise ConfigError(
            "env.name", f"{env_id} needs {package} ({err}); run: pip install 'ticketlab[{extra}]'"
        ) from None


def unknown_id(env_id: str, known: Sequence[str], family: str) -> ConfigError:
    """One line listing a few valid ids and the command that lists them all."""
    few = ", ".join(f"{family}:{k}" for k in known[:4])
    return ConfigError("env.name", f"unknown {env_id!r}; allowed: {few}, ... (all {len(known)}: ticketlab envs)")


class TimeStepEnv:
    """A dm_env-style environment (a `TimeStep` with `step_type`, `reward`, `discount`,
    `observation`) in gymnax 1.0's six-value, auto-resetting API. A last step with discount 0 is a
    termination, a last step with discount 1 a truncation (the suite's own call); an ended episode
    is reset with the step's key, and `info["final_observation"]` is the observation before it.

    `reset_fn(key) -> (carry, timestep)` and `step_fn(carry, action) -> (carry, timestep)` are the
    suite's, `observation(timestep.observation) -> float32 array` the flattening."""

    def __init__(
        self,
        reset_fn: Callable[[jax.Array], tuple[Any, Any]],
        step_fn: Callable[[Any, jax.Array], tuple[Any, Any]],
        observation: Callable[[Any], jax.Array],
        obs_space: spaces.Box,
        num_actions: int,
        max_steps: int,
    ):
        self._reset_fn, self._step_fn, self._observation = reset_fn, step_fn, observation
        self._obs_space, self._num_actions = obs_space, int(num_actions)
        self.default_params = SuiteParams(max_steps_in_episode=int(max_steps))

    def reset(self, key, params=None):
        carry, timestep = self._reset_fn(key)
        return self._observation(timestep.observation), carry

    def step(self, key, state, action, params=None):
        carry, timestep = self._step_fn(state, action)
        last = timestep.step_type == 2  # dm_env.StepType.LAST
        terminated = jnp.logical_and(last, timestep.discount == 0)
        truncated = jnp.logical_and(last, timestep.discount != 0)
        obs_st = self._observation(timestep.observation)
        carry_re, timestep_re = self._reset_fn(key)
        carry = jax.tree.map(lambda r, s: jax.lax.select(last, r, s), carry_re, carry)
        obs = jax.lax.select(last, self._observation(timestep_re.observation), obs_st)
        info = {"terminated": terminated, "truncated": truncated, "final_observation": obs_st}
        return obs, carry, jnp.asarray(timestep.reward, jnp.float32), terminated, truncated, info

    def observation_space(self, params=None) -> spaces.Box:
        return self._obs_space

    def action_space(self, params=None) -> spaces.Discrete:
        return spaces.Discrete(self._num_actions)
