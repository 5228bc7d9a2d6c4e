"""XLand-MiniGrid (Nikulin et al. 2024) by id: `xminigrid:MiniGrid-Empty-8x8` and the other
MiniGrid ports of its registry (the `[xminigrid]` extra), stepped inside the compiled program.

XLand-MiniGrid's API is dm_env's shape over JAX: `reset(params, key) -> TimeStep`,
`step(params, timestep, action) -> TimeStep`, a terminated episode's discount 0 and a truncated
one's 1, no reset of its own; envs/suites.py's `TimeStepEnv` makes it gymnax 1.0's six values.

The observation is the agent's egocentric view, `view_size` x `view_size` cells (7 by default) of
two channels: the tile's kind (13 kinds: empty, floor, wall, ball, square, pyramid, goal, key,
locked, closed and open door, hex, star) and its colour (12 with none). It is an HWC image with
channels `tile` and `colour`, each divided by its largest id (12, 11), so the network sees [0, 1].
The reward is 1 - 0.9 * steps / max_steps on reaching the goal, else 0: the floor is 0.

The XLand-MiniGrid-R* ids draw their tasks from benchmark rulesets that XLand-MiniGrid downloads;
nothing here may download, so those ids are refused in one line.
"""

from __future__ import annotations

import functools
from typing import Any

import jax.numpy as jnp
from gymnax.environments import spaces

from ticketlab.core.errors import ConfigError
from ticketlab.envs.adapters import check_env
from ticketlab.envs.base import EnvSpec, gymnax_spec
from ticketlab.envs.suites import TimeStepEnv, require, unknown_id

PREFIX = "xminigrid:"
CHANNELS = ("tile", "colour")
RETURN_FLOOR = 0.0
IDS = (
    "MiniGrid-BlockedUnlockPickUp", "MiniGrid-DoorKey-5x5", "MiniGrid-DoorKey-6x6", "MiniGrid-DoorKey-8x8",
    "MiniGrid-DoorKey-16x16", "MiniGrid-Empty-5x5", "MiniGrid-Empty-6x6", "MiniGrid-Empty-8x8",
    "MiniGrid-Empty-16x16", "MiniGrid-EmptyRandom-5x5", "MiniGrid-EmptyRandom-6x6", "MiniGrid-EmptyRandom-8x8",
    "MiniGrid-EmptyRandom-16x16", "MiniGrid-FourRooms", "MiniGrid-LockedRoom", "MiniGrid-MemoryS8",
    "MiniGrid-MemoryS16", "MiniGrid-MemoryS32", "MiniGrid-MemoryS64", "MiniGrid-MemoryS128", "MiniGrid-Playground",
    "MiniGrid-Unlock", "MiniGrid-UnlockPickUp",
)  # fmt: skip
"""XLand-MiniGrid 0.9.3's MiniGrid ports (`xminigrid.registered_environments()` less the XLand ids)."""


@functools.cache  # one instance per id and process, checked once
def xminigrid_spec(env_id: str) -> EnvSpec:
    """The spec of `xminigrid:<id>`."""
    name = env_id.removeprefix(PREFIX)
    if name.startswith("XLand-MiniGrid"):
        raise ConfigError(
            "env.name",
            f"{env_id} draws its tasks from a benchmark ruleset XLand-MiniGrid downloads, which ticketlab may not; "
            f"allowed: the MiniGrid ids ({PREFIX}{IDS[7]}, ...; all: ticketlab envs)",
        )
    if name not in IDS:
        raise unknown_id(env_id, IDS, "xminigrid")
    xminigrid: Any = require("xminigrid", "xminigrid", env_id)
    constants: Any = require("xminigrid.core.constants", "xminigrid", env_id)
    inner, params = xminigrid.make(name)
    largest = jnp.array([constants.NUM_TILES - 1, constants.NUM_COLORS - 1], jnp.float32)
    shape = tuple(int(d) for d in inner.observation_shape(params))

    def observation(obs):
        return jnp.asarray(obs, jnp.float32) / largest

    env = TimeStepEnv(
        reset_fn=lambda key: _pair(inner.reset(params, key)),
        step_fn=lambda timestep, action: _pair(inner.step(params, timestep, action)),
        observation=observation,
        obs_space=spaces.Box(0.0, 1.0, shape, jnp.float32),
        num_actions=inner.num_actions(params),
        max_steps=int(params.max_steps),
    )
    env, suite_params, limit = check_env(env_id, (env, env.default_params), None)
    return gymnax_spec(
        env_id,
        env,
        suite_params,
        return_floor=RETURN_FLOOR,
        max_episode_steps=limit,
        image_layout="HWC",
        channel_names=CHANNELS,
    )


def _pair(timestep):
    """(the carry the next step needs, the timestep): XLand-MiniGrid's carry is its timestep."""
    return timestep, timestep
