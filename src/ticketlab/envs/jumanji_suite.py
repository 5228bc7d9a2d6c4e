"""Jumanji (InstaDeep, Bonnet et al. 2024) by id: `jumanji:Snake-v1`, `jumanji:Maze-v0`,
`jumanji:PacMan-v1`, `jumanji:SlidingTilePuzzle-v0` (the `[jumanji]` extra), stepped inside the
compiled program. Its other ids are refused in one line: their actions are several (multi-discrete,
continuous), they set no time limit, or they download data when made (Sokoban).

Jumanji's API: `reset(key) -> (state, timestep)`, `step(state, action) -> (state, timestep)`, a
dm_env `TimeStep` whose discount is 0 on termination and 1 on truncation (Snake calls its time
limit a termination, and so does ticketlab: the suite's own call), no reset of its own;
envs/suites.py's `TimeStepEnv` makes it gymnax 1.0's six values. The episode limit is the
environment's `time_limit`.

Observations are NamedTuples of arrays: flattened by envs/suites.py's rule, their fields in
Jumanji's order (nested ones as `outer.inner`), each divided by its spec's maximum where that is
finite and above 1 (Snake's step count by 3,999), booleans as 0/1. Snake's grid channels are named
as its docstring gives them (body, head, tail, fruit, body order); the return floor is known for
Snake (0: a fruit pays 1, nothing costs).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from gymnax.environments import spaces

from ticketlab.core.errors import ConfigError
from ticketlab.envs.adapters import check_env
from ticketlab.envs.base import EnvSpec, gymnax_spec
from ticketlab.envs.suites import Field, TimeStepEnv, flatten, groups_of, names_of, require, unknown_id

PREFIX = "jumanji:"
FACTS: dict[str, dict[str, Any]] = {
    "Snake-v1": dict(
        return_floor=0.0,
        items={"grid": ("body", "head", "tail", "fruit", "body order"), "action_mask": ("up", "right", "down", "left")},
    ),
}
"""What a Jumanji environment's specs do not say: its return floor, the names of its fields' items."""
IDS = ("Maze-v0", "PacMan-v1", "SlidingTilePuzzle-v0", "Snake-v1")
"""Jumanji 1.1.2's ids with one discrete action and a time limit (the rest are refused in one line)."""
DOWNLOADS = ("Sokoban-v0",)
"""Ids whose construction downloads data (Sokoban's levels from the Hugging Face hub): refused."""


def _scale(spec: Any) -> float:
    top = getattr(spec, "maximum", None)
    if top is None and hasattr(spec, "num_values"):
        top = np.max(spec.num_values) - 1
    if top is None:
        return 1.0
    top = float(np.max(np.asarray(top)))
    return top if math.isfinite(top) and top > 1 else 1.0


def fields_of(env: Any, items: dict[str, tuple[str, ...]]) -> tuple[Field, ...]:
    """The observation's arrays as `Field`s, in Jumanji's order (nested NamedTuples by path), each
    scaled by its spec (the observation spec's attribute of the same path)."""
    _, timestep = jax.eval_shape(env.reset, jax.random.PRNGKey(0))
    fields = []
    for path, leaf in jax.tree_util.tree_leaves_with_path(timestep.observation):
        keys = [str(getattr(k, "name", getattr(k, "key", getattr(k, "idx", k)))) for k in path]
        spec = env.observation_spec
        for key in keys:
            spec = getattr(spec, key, None)
        name = ".".join(keys)
        fields.append(Field(name, tuple(int(d) for d in leaf.shape), _scale(spec), items.get(name, ())))
    return tuple(fields)


@functools.cache  # one instance per id and process, checked once
def jumanji_spec(env_id: str) -> EnvSpec:
    """The spec of `jumanji:<id>`."""
    name = env_id.removeprefix(PREFIX)
    jumanji: Any = require("jumanji", "jumanji", env_id)
    if name in DOWNLOADS:
        raise ConfigError(
            "env.name", f"{env_id} downloads its levels when made, which ticketlab may not; allowed: {', '.join(IDS)}"
        )
    if name not in jumanji.registered_environments():
        raise unknown_id(env_id, IDS, "jumanji")
    inner = jumanji.make(name)
    action = inner.action_spec
    if not hasattr(action, "num_values") or np.ndim(action.num_values) != 0:
        raise ConfigError(
            "env.name",
            f"{env_id} takes actions of kind {type(action).__name__}; ticketlab's agents take one discrete action "
            f"({', '.join(IDS)})",
        )
    limit = getattr(inner, "time_limit", None)
    if limit is None:
        raise ConfigError(
            "env.name",
            f"{env_id} has no time_limit, which ticketlab needs as the episode limit; allowed: {', '.join(IDS)}",
        )
    facts = FACTS.get(name, {})
    fields = fields_of(inner, facts.get("items", {}))

    def observation(obs):
        return flatten(fields, jax.tree_util.tree_leaves(obs))

    size = sum(f.size for f in fields)
    env = TimeStepEnv(
        reset_fn=inner.reset,
        step_fn=inner.step,
        observation=observation,
        obs_space=spaces.Box(-jnp.inf, jnp.inf, (size,), jnp.float32),
        num_actions=int(action.num_values),
        max_steps=int(limit),
    )
    env, params, limit = check_env(env_id, (env, env.default_params), None)
    return gymnax_spec(
        env_id,
        env,
        params,
        obs_names=names_of(fields),
        obs_groups=groups_of(fields),
        return_floor=facts.get("return_floor"),
        max_episode_steps=limit,
    )
