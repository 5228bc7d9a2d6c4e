"""Environments by name: gymnax ids (six-value step API), with named observation dimensions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnax

OBSERVATION_NAMES = {
    "CartPole-v1": ("cart position", "cart velocity", "pole angle", "pole angular velocity"),
    "Acrobot-v1": ("cos theta1", "sin theta1", "cos theta2", "sin theta2", "theta1 dot", "theta2 dot"),
}
RETURN_FLOOR = {"CartPole-v1": 0.0, "Acrobot-v1": -500.0}
"""Worst possible episode return; normalized returns are (R - floor) / (dense mean - floor)."""


@dataclass(frozen=True)
class EnvSpec:
    env: Any
    params: Any
    obs_shape: tuple[int, ...]
    num_actions: int
    obs_names: tuple[str, ...]
    return_floor: float
    max_episode_steps: int


def discrete_env_ids() -> tuple[str, ...]:
    """gymnax ids whose action space is discrete (what PPO here supports)."""
    return tuple(gymnax.registered_envs)


def make_env(name: str) -> EnvSpec:
    if name not in gymnax.registered_envs:
        from ticketlab.validate import ConfigError

        raise ConfigError("env.name", f"unknown {name!r}; allowed: {', '.join(gymnax.registered_envs)}")
    env, params = gymnax.make(name)
    space = env.action_space(params)
    if not hasattr(space, "n"):
        from ticketlab.validate import ConfigError

        raise ConfigError("env.name", f"{name!r} has continuous actions; discrete PPO needs one of: "
                          f"{', '.join(OBSERVATION_NAMES)}")
    obs_shape = tuple(env.observation_space(params).shape)
    size = 1
    for d in obs_shape:
        size *= d
    names = OBSERVATION_NAMES.get(name, tuple(f"obs[{i}]" for i in range(size)))
    return EnvSpec(
        env=env,
        params=params,
        obs_shape=obs_shape,
        num_actions=int(space.n),
        obs_names=names,
        return_floor=RETURN_FLOOR.get(name, 0.0),
        max_episode_steps=int(params.max_steps_in_episode),
    )
