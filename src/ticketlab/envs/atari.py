"""ALE games (the `[atari]` extra) stepped through ale-py's vector environment and its XLA
interface, so a PPO iteration on pixels stays one compiled program (agents/ppo_atari.py).

Ids are Gymnasium's, `ALE/<Game>-v5` (any of the ROMs ale-py ships in its wheel), but the settings
are rlpyt's AtariEnv (the paper's framework), recorded in `AtariConfig` and the preset, because the
two APIs disagree on defaults: Gymnasium's v5 envs repeat the previous action with probability 0.25,
ale-py's vector env and rlpyt never do. Each agent step repeats the action for `frame_skip`
frames and observes the max of the last two, grayscale, resized to `screen_size` square (rlpyt:
two rows cropped, then halved to 104x80), the last `frame_stack` frames oldest first (zeros before
the first one after a reset); up to `noop_max` no-op steps start each game and FIRE is pressed where
the game has it. The environment's rewards are the game's own; the agent clips them to their sign
when `reward_clip` (rlpyt's `clip_reward`), so curves and evaluations report game scores. Under
`episodic_life` a lost life is a termination for learning (rlpyt's `episodic_lives`) while the game
goes on; an episode of the training curve or an evaluation is a whole game.

The vector env resets an environment on the step *after* its episode ended (`NEXT_STEP` autoreset;
that step's action is ignored and its reward is 0). `reset_steps` tells those steps apart (the
episode's frame count starts again), and the agent leaves them out of its loss.

One vector env is made per (game, settings, size, role) and process, and kept: its handle is an
argument of the compiled program, and it must outlive it.
"""

from __future__ import annotations

import atexit
import dataclasses
import importlib
import os
from functools import cache, lru_cache
from typing import Any

import gymnasium

from ticketlab.core.errors import ConfigError
from ticketlab.envs.base import EnvSpec, image_input_names
from ticketlab.envs.encodings import divided
from ticketlab.envs.host import one_line, quiet_native_output

NAMESPACE = "ALE"
PREFIX = f"{NAMESPACE}/"
INSTALL = 'pip install -e ".[atari]"'
LIST_IDS = "ticketlab envs --atari"

RANDOM_SCORES = {"pong": -20.7, "breakout": 1.7, "space_invaders": 148.0, "freeway": 0.0}
"""A uniformly random policy's game score (Mnih et al. 2015, extended data table 2), the floor of
normalized plots; other games use 0 (a game's worst score is not known in general)."""


def require_ale(env_id: str) -> None:
    try:
        with quiet_native_output():
            importlib.import_module("ale_py")  # the [atari] extra
    except ImportError as err:
        raise ConfigError("env.name", f"{env_id} needs ale-py ({one_line(err)}); run: {INSTALL}") from None


@lru_cache(maxsize=1)
def game_ids() -> dict[str, str]:
    """`ALE/<Game>-v5` -> ale-py's ROM name, for every ROM in the installed wheel."""
    import ale_py  # the [atari] extra

    gymnasium.register_envs(ale_py)
    roms = set(ale_py.roms.get_all_rom_ids())
    ids = {}
    for env_id, entry in gymnasium.envs.registry.items():
        game = (entry.kwargs or {}).get("game")
        if entry.namespace == NAMESPACE and entry.version == 5 and game in roms and "obs_type" not in entry.kwargs:
            ids[env_id] = game
    return dict(sorted(ids.items()))


def rom(env_id: str) -> str:
    """ale-py's ROM name of `ALE/<Game>-v5`; one line saying how to list the valid ids otherwise."""
    require_ale(env_id)
    ids = game_ids()
    if env_id not in ids:
        raise ConfigError(
            "env.name",
            f"unknown ALE game {env_id!r} ({len(ids)} are installed, as ALE/<Game>-v5); list them with: {LIST_IDS}",
        )
    return ids[env_id]


def check_settings(settings) -> None:
    """One line naming the bad `env.atari` field."""
    for field in ("frame_skip", "frame_stack", "screen_size", "max_frames"):
        value = getattr(settings, field)
        if value < 1:
            raise ConfigError(f"env.atari.{field.replace('_', '-')}", f"must be >= 1, got {value}")
    if settings.noop_max < 0:
        raise ConfigError("env.atari.noop-max", f"must be >= 0, got {settings.noop_max}")


def frame_names(stack: int) -> tuple[str, ...]:
    """The input channels: `frame t-3` .. `frame t` (oldest first, as the vector env stacks them)."""
    return tuple(f"frame t-{stack - 1 - i}" if i < stack - 1 else "frame t" for i in range(stack))


def atari_spec(env_id: str, settings, sticky_actions: float = -1.0) -> EnvSpec:
    """The spec of an ALE game under `settings` (an `AtariConfig`); its `env` is the ROM name and
    its `params` the settings: the program makes its vector envs from them (`vector_env`). The
    network sees each uint8 frame divided by 255."""
    game = rom(env_id)
    check_settings(settings)
    sticky = 0.0 if sticky_actions == -1.0 else float(sticky_actions)
    actions = num_actions(game)
    shape = (settings.frame_stack, settings.screen_size, settings.screen_size)
    channels = frame_names(settings.frame_stack)
    return EnvSpec(
        id=env_id,
        env=game,
        params=settings,
        obs_shape=shape,
        obs_names=image_input_names(shape, "CHW", channels),
        return_floor=RANDOM_SCORES.get(game, 0.0),
        floor_known=game in RANDOM_SCORES,
        max_episode_steps=-(-settings.max_frames // settings.frame_skip),
        num_actions=actions,
        raw_obs_shape=shape,
        obs_dtype="uint8",
        image_layout="CHW",
        channel_names=channels,
        encoder=divided(255.0),
        backend="ale",
        default_sticky_actions=0.0,
        sticky_actions=sticky,
        image_size_option="env.atari.screen-size",
    )


@cache
def num_actions(game: str) -> int:
    """The size of the game's minimal action set (rlpyt's and Gymnasium's default)."""
    import ale_py  # the [atari] extra

    with quiet_native_output():
        ale = ale_py.ALEInterface()
        ale.setLoggerMode(ale_py.LoggerMode.Error)
        rom = ale_py.roms.get_rom_path(game)
        if rom is None:
            raise ValueError(f"{game}: ale-py ships no ROM of that name")
        ale.loadROM(rom)
    return len(ale.getMinimalActionSet())


@dataclasses.dataclass(frozen=True)
class VectorEnv:
    """The XLA functions of one ale-py vector env of `num_envs` games: `reset(handle, seeds)` and
    `step(handle, actions)` (ale-py's `xla()`), and the env itself, kept alive with its handle."""

    env: Any
    handle: Any
    reset: Any
    step: Any


_VECTOR_ENVS: dict[tuple, VectorEnv] = {}


def vector_env(game: str, settings, sticky: float, num_envs: int, *, training: bool) -> VectorEnv:
    """The process's vector env of `num_envs` copies of `game`. `training`: lost lives terminate
    (when `settings.episodic_life`); evaluation envs end episodes at game over only. Rewards are
    never clipped here (the agent clips them). Its threads: the cores this process may run on."""
    key = (game, dataclasses.astuple(settings), sticky, num_envs, training)
    if key not in _VECTOR_ENVS:
        from ale_py.vector_env import AtariVectorEnv  # the [atari] extra

        with quiet_native_output():
            env = AtariVectorEnv(
                game,
                num_envs,
                num_threads=min(num_envs, len(os.sched_getaffinity(0))),
                max_num_frames_per_episode=settings.max_frames,
                repeat_action_probability=sticky,
                img_height=settings.screen_size,
                img_width=settings.screen_size,
                grayscale=True,
                stack_num=settings.frame_stack,
                frameskip=settings.frame_skip,
                maxpool=True,
                noop_max=settings.noop_max,
                episodic_life=False,
                life_loss_info=training and settings.episodic_life,
                reward_clipping=False,
                use_fire_reset=settings.fire_reset,
            )
            handle, reset, step = env.xla()
        _VECTOR_ENVS[key] = VectorEnv(env, handle, reset, step)
    return _VECTOR_ENVS[key]


@atexit.register
def _close_vector_envs() -> None:
    """Close the process's vector envs before the interpreter tears ale-py down (else nanobind
    reports each live env as a leak on exit)."""
    for vec in _VECTOR_ENVS.values():
        vec.env.close()
    _VECTOR_ENVS.clear()


def reset_steps(frames, previous_frames):
    """True where a step was the vector env's autoreset (its episode frame count starts again)."""
    return frames <= previous_frames  # a real step advances it by frame_skip
