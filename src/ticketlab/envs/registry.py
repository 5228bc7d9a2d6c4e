"""Environments by name: gymnax ids (six-value step API), with named observation dimensions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnax

from ticketlab.envs import mazegrid
from ticketlab.envs.encodings import Encoder, entangled, scaled

MAZEGRID = "MazeGrid-v0"
ALIASES = {"mazegrid": MAZEGRID, "cartpole": "CartPole-v1", "acrobot": "Acrobot-v1"}

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
    raw_obs_shape: tuple[int, ...] = ()
    """What the environment returns (and replay stores); `obs_shape` is what the network sees."""
    encoder: Encoder | None = None
    """Agent-side observation encoding (MazeGrid's entangled projection, RGB / 255), or None."""
    encoding: str = ""
    """MazeGrid's encoding name ("" for other envs)."""


def env_ids() -> tuple[str, ...]:
    return (MAZEGRID,) + tuple(gymnax.registered_envs)


def make_env(name: str, encoding: str = "object-map") -> EnvSpec:
    """The env `name` (a gymnax id or MazeGrid-v0); `encoding` applies to MazeGrid only."""
    from ticketlab.validate import ConfigError

    name = ALIASES.get(name, name)
    if name == MAZEGRID:
        return _mazegrid(encoding)
    if name not in gymnax.registered_envs:
        raise ConfigError("env.name", f"unknown {name!r}; allowed: {', '.join(env_ids())}")
    if encoding != "object-map":
        raise ConfigError("env.encoding", f"encodings are MazeGrid's; {name} allows only object-map (the default)")
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
        raw_obs_shape=obs_shape,
    )


def _mazegrid(encoding: str) -> EnvSpec:
    from ticketlab.validate import ConfigError

    if encoding not in mazegrid.ENCODINGS:
        raise ConfigError("env.encoding", f"unknown {encoding!r}; allowed: {', '.join(mazegrid.ENCODINGS)}")
    env = mazegrid.MazeGrid("rgb" if encoding == "rgb" else "object-map")
    params = env.default_params
    raw = tuple(env.observation_space(params).shape)
    encoder = {"entangled": entangled(raw), "rgb": scaled(1.0 / 255.0)}.get(encoding)
    size = raw[0] * raw[1] * raw[2]
    if encoding == "entangled":
        shape, names = (size,), tuple(f"projection[{i}]" for i in range(size))
    else:
        channels = mazegrid.CHANNELS if encoding == "object-map" else ("red", "green", "blue")
        shape = raw
        names = tuple(f"{c} ({r},{col})" for c in channels for r in range(raw[1]) for col in range(raw[2]))
    return EnvSpec(env=env, params=params, obs_shape=shape, num_actions=env.num_actions, obs_names=names,
                   return_floor=-float(mazegrid.START_POISONS.sum()), max_episode_steps=params.max_steps_in_episode,
                   raw_obs_shape=raw, encoder=encoder, encoding=encoding)


def image_channels(spec: EnvSpec) -> tuple[str, ...] | None:
    """Channel names when the network input is an image (channels x height x width), else None."""
    if len(spec.obs_shape) != 3:
        return None
    if spec.encoding == "object-map":
        return mazegrid.CHANNELS
    if spec.encoding == "rgb":
        return ("red", "green", "blue")
    return tuple(f"channel {i}" for i in range(spec.obs_shape[0]))
