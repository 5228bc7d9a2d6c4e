"""What the engine knows of an environment: `EnvSpec` (built per run), `EnvDef` (a registry entry:
how to build one id), `Family` (a registry entry for a pattern of ids: `gymnasium:<id>`, `brax:<task>`,
`ALE/<Game>-v5`) and `Backend` (a registry entry: how a training program steps the environments of
one kind: inside the program, behind an emulator's FFI call, or on the host).

Facts live here, never in the code that reads them: the names of observation dimensions, the worst
possible return (the floor of normalized plots), the image layout of the observation (CHW or HWC:
nothing downstream guesses it) and the name of each image channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ticketlab.core.errors import ConfigError
from ticketlab.envs.encodings import Encoder

IMAGE_LAYOUTS = ("CHW", "HWC")


@dataclass(frozen=True)
class EnvSpec:
    id: str
    """The canonical id (aliases resolved), what config.json and plots key on."""
    env: Any
    """What its backend steps: a gymnax-API environment (backend gymnax), an ALE ROM name (ale), or
    None (host environments, datasets)."""
    params: Any
    obs_shape: tuple[int, ...]
    """What the network sees (after the agent-side encoder, if any)."""
    obs_names: tuple[str, ...]
    return_floor: float
    """Worst possible episode return; normalized returns are (R - floor) / (dense mean - floor)."""
    max_episode_steps: int
    floor_known: bool = True
    """False where nobody said the worst return (an id without facts of ours, an environment
    registered without `return_floor`): 0 is assumed, and reports say so (env.return-floor sets it)."""
    num_actions: int = 0
    """Discrete action count (0 for continuous actions)."""
    action_dim: int = 0
    """Continuous action dimensions (0 for discrete actions)."""
    action_low: tuple[float, ...] = ()
    action_high: tuple[float, ...] = ()
    raw_obs_shape: tuple[int, ...] = ()
    """What the environment returns (and replay stores); `obs_shape` is what the network sees."""
    obs_dtype: str = "float32"
    image_layout: str | None = None
    """"CHW" or "HWC" when the network input is an image, else None."""
    channel_names: tuple[str, ...] = ()
    encoder: Encoder | None = None
    """Agent-side observation encoding (MazeGrid's entangled projection, RGB / 255), or None."""
    encoding: str = ""
    """The encoding name of environments that have several ("" otherwise)."""
    backend: str = "gymnax"
    """The name of its `Backend` (envs/backends.py): gymnax (a pure gymnax-API environment stepped
    inside the compiled program), host (Gymnasium, stepped in Python) or ale (ale-py's emulator)."""
    default_sticky_actions: float = 0.0
    """The environment's own sticky-action probability (MinAtar's reference package: 0.1), used
    when the config leaves env.sticky-actions at -1."""
    sticky_actions: float = 0.0
    """The sticky-action probability this spec's environment runs with (envs/wrappers.py)."""
    time_limit: str = "truncate"
    """What the time limit is to the agents: truncate (bootstrap through it) or terminate."""
    host_id: str = ""
    """The Gymnasium id a host environment steps ("" for gymnax environments)."""
    image_size_option: str = ""
    """The config option that sets the image size, where one does (ALE: env.atari.screen-size)."""
    obs_groups: tuple[str, ...] = ()
    """The part of the observation each input belongs to (one per input: a Craftax map cell's block
    type, the inventory, ...), where a suite documents its layout; () where it does not. The grouped
    input figure sums the first layer's connections over them."""

    @property
    def discrete(self) -> bool:
        return self.num_actions > 0


@dataclass(frozen=True)
class EnvDef:
    """A registry entry: `build(env_cfg) -> EnvSpec` (the entry checks the encoding and any settings
    of its own; its backend applies sticky actions and the time limit), the other names the id
    answers to, and whether its actions are discrete when that is known without building it (so a
    missing extra is not needed to check a config)."""

    id: str
    build: Callable[[Any], EnvSpec]
    aliases: tuple[str, ...] = ()
    discrete: bool | None = None
    backend: str = "gymnax"
    """The backend its spec names (known without building it)."""


@dataclass(frozen=True)
class Family:
    """A registry entry for ids that follow a pattern (`gymnasium:<Gymnasium id>`, `brax:<task>`,
    `ALE/<Game>-v5`, every gymnax id): the registry resolves an id to its family, never the code that
    uses the id."""

    name: str
    pattern: str
    """How its ids look, as `ticketlab envs` lists them."""
    matches: Callable[[str], bool]
    build: Callable[[str, Any], EnvSpec]
    """(canonical id, EnvConfig) -> EnvSpec."""
    backend: str = "gymnax"
    """The backend its ids' specs name (known without building them)."""
    torso: Callable[[str], str] = lambda env_id: ""
    """The conv torso an id's observations call for ("" none; ALE's frames and Craftax's pixels:
    nature-cnn); a flattening MLP torso over them must then be asked for by name."""
    canonical: Callable[[str], str] = lambda env_id: env_id
    """The id a config stores for one the family accepts (`brax:hopper` -> `brax:hopper:spring`)."""
    discrete: Callable[[str], bool | None] = lambda env_id: None
    """Whether an id's actions are discrete, when known without building it (None: build it)."""
    ids: Callable[[], tuple[str, ...]] = tuple
    """The family's ids, where listing them is cheap (`ticketlab envs` shows them; else its pattern)."""


@dataclass(frozen=True)
class Backend:
    """How a training program steps the environments of one kind (a registry entry, envs/backends.py).

    `make_envs(spec, num_envs, eval_episodes, runs)` gives the `Envs` of one program
    (envs/stepping.py): one run's when `per_run` (the environments are pure functions of their keys,
    and a program trains one run, vmapped over a block), else a block of `runs` runs' (the
    environments are effects: an emulator behind an FFI call, Python behind a host callback).
    `configure(spec, env_cfg)` applies a config's sticky actions and time-limit semantics, or
    refuses what the backend cannot do in one line."""

    name: str
    description: str
    per_run: bool
    make_envs: Callable[..., Any]
    configure: Callable[[EnvSpec, Any], EnvSpec]

    @property
    def kind(self) -> str:
        """What its programs train: one run (`PER_RUN`) or a block (`BLOCK`); an agent's trainers are
        keyed by backend name or by kind."""
        return PER_RUN if self.per_run else BLOCK


PER_RUN, BLOCK = "per-run", "block"


def default_names(shape: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"obs[{i}]" for i in range(math.prod(shape)))


def gymnax_spec(
    env_id: str,
    env,
    params,
    *,
    obs_names=None,
    obs_groups: tuple[str, ...] = (),
    return_floor: float | None = None,
    max_episode_steps: int | None = None,
    image_layout: str | None = None,
    channel_names: tuple[str, ...] = (),
    sticky_actions: float = 0.0,
) -> EnvSpec:
    """The spec of a gymnax environment instance from its spaces and the registered facts
    (`return_floor` None: not known, 0 assumed; `max_episode_steps` None: the params')."""
    obs_space = env.observation_space(params)
    shape = tuple(int(d) for d in obs_space.shape)
    space = env.action_space(params)
    actions: dict[str, Any]
    if hasattr(space, "n"):
        actions = dict(num_actions=int(space.n))
    else:
        low = tuple(float(x) for x in np.broadcast_to(np.asarray(space.low, np.float32), space.shape).reshape(-1))
        high = tuple(float(x) for x in np.broadcast_to(np.asarray(space.high, np.float32), space.shape).reshape(-1))
        actions = dict(action_dim=len(low), action_low=low, action_high=high)
    if image_layout is not None and len(shape) != 3:
        raise ValueError(f"{env_id}: image_layout {image_layout} needs a 3-d observation, got {shape}")
    names = tuple(obs_names) if obs_names else default_names(shape)
    if len(names) != math.prod(shape) or (obs_groups and len(obs_groups) != len(names)):
        raise ConfigError(
            "register_env",
            f"{env_id}: the observation has {math.prod(shape)} inputs; obs_names gives {len(names)}"
            + (f", obs_groups {len(obs_groups)}" if obs_groups else ""),
        )
    if image_layout is not None and not obs_names:
        names = image_input_names(shape, image_layout, channel_names)
    return EnvSpec(
        id=env_id,
        env=env,
        params=params,
        obs_shape=shape,
        obs_names=names,
        obs_groups=tuple(obs_groups),
        return_floor=0.0 if return_floor is None else float(return_floor),
        floor_known=return_floor is not None,
        max_episode_steps=int(params.max_steps_in_episode if max_episode_steps is None else max_episode_steps),
        raw_obs_shape=shape,
        obs_dtype=np.dtype(getattr(obs_space, "dtype", np.float32)).name,
        image_layout=image_layout,
        channel_names=tuple(channel_names),
        default_sticky_actions=float(sticky_actions),
        **actions,
    )


def image_input_names(shape, layout: str, channel_names) -> tuple[str, ...]:
    """`channel (row,col)` for every input in the observation's own flattened order."""
    if layout == "CHW":
        c, h, w = shape
        order = [(ch, r, col) for ch in range(c) for r in range(h) for col in range(w)]
    else:
        h, w, c = shape
        order = [(ch, r, col) for r in range(h) for col in range(w) for ch in range(c)]
    names = tuple(channel_names) or tuple(f"channel {i}" for i in range(c))
    return tuple(f"{names[ch]} ({r},{col})" for ch, r, col in order)
