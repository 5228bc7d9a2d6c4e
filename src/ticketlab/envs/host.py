"""Host-side environment backend: any Gymnasium id, stepped on the CPU in numpy.

The project's agents are written against gymnax's functional API and run on the accelerator; this
module is the other half for environments that exist only as Gymnasium ids. It imports numpy,
gymnasium, the standard library and the environment facts of this package (no jax), so it can be
used from worker processes and tested on its own.

- `gymnasium_facts(env_id)` describes an id as an `EnvSpec` (shapes, action space, time limit,
  named observation dimensions; id `gymnasium:<env_id>`) without keeping the environment.
- `HostVectorEnv` steps `num_envs` copies in one `gymnasium.vector` env with *same-step* autoreset:
  the step that ends an episode returns the next episode's reset observation as `obs` and the true
  last observation in `final_obs`, so a rollout never sees a "dead" step.
- `evaluate_host(env_id, act, num_episodes, seed)` runs one episode per copy and returns each
  undiscounted return.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import importlib
import math
import os
import re
import sys
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from ticketlab.envs.base import EnvSpec
from ticketlab.envs.gymnax_ids import GYMNAX_FACTS

__all__ = ["HOST_PREFIX", "HostVectorEnv", "evaluate_host", "gymnasium_facts", "gymnasium_id"]

HOST_PREFIX = "gymnasium:"

_LIBC = ctypes.CDLL(None)


def gymnasium_id(env_id: str) -> str:
    """The Gymnasium id of `gymnasium:<id>`."""
    return env_id[len(HOST_PREFIX) :]


DEFAULT_MAX_EPISODE_STEPS = 1000
"""Used when an id's spec registers no time limit."""

_KEPT_OBS_DTYPES = (np.dtype(np.bool_), np.dtype(np.uint8))
"""Observation dtypes returned as they are; every other dtype is returned as float32."""


def one_line(thing: Any) -> str:
    """`str(thing)` on one line (spaces, errors with newlines)."""
    return re.sub(r"\s+", " ", str(thing)).strip()


def _check_registered(env_id: str) -> None:
    """Raise KeyError (listing a few registered ids) unless `env_id` can be made."""
    if not isinstance(env_id, str):
        raise KeyError(f"environment id must be a string, got {type(env_id).__name__} {env_id!r}")
    name = env_id
    if ":" in env_id:  # "some.module:Env-v0" imports the module that registers Env-v0, as gymnasium.make does
        module, name = env_id.split(":", 1)
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise KeyError(f"unknown Gymnasium id {env_id!r}: cannot import module {module!r} ({err})") from None
    if name in gymnasium.registry:
        return
    ids = sorted(gymnasium.registry)
    close = difflib.get_close_matches(name, ids, n=5, cutoff=0.7)
    examples = close or [
        i
        for i in (
            "CartPole-v1",
            "Acrobot-v1",
            "Pendulum-v1",
            "MountainCar-v0",
            "MountainCarContinuous-v0",
            "LunarLander-v3",
        )
        if i in gymnasium.registry
    ]
    hint = "closest" if close else "for example"
    raise KeyError(f"unknown Gymnasium id {env_id!r}; {len(ids)} ids are registered, {hint}: {', '.join(examples)}")


NOISY_NATIVE_MODULES: set[str] = set()
"""Modules whose environments print from native code (envs/bullet.py adds pybullet's); their ids
(`module:Env-v0`) are built and first reset inside `quiet_native_output`."""


@contextlib.contextmanager
def quiet_native_output(fds: tuple[int, ...] = (1, 2)):
    """Send what native code prints to these file descriptors to /dev/null meanwhile: pybullet's C
    code prints its build time to stderr on import and "argv[0]=" to stdout on connecting, which
    would break one-line errors and the progress bar. Python exceptions still propagate, and Python
    warnings raised meanwhile are recorded and re-issued afterwards. Where the descriptors cannot
    be duplicated (closed, or no real stdout), nothing is redirected."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        _LIBC.fflush(None)
        saved = [os.dup(fd) for fd in fds]
    except (OSError, ValueError):
        yield
        return
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open(os.devnull, "w") as devnull:
                for fd in fds:
                    os.dup2(devnull.fileno(), fd)
            yield
    finally:
        _LIBC.fflush(None)  # C's stdio buffers still hold what was printed meanwhile (a pipe buffers fully)
        for fd, copy in zip(fds, saved):
            os.dup2(copy, fd)
            os.close(copy)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _quiet_if_noisy(env_id: str):
    """`quiet_native_output()` for ids of NOISY_NATIVE_MODULES, else nothing."""
    noisy = ":" in env_id and env_id.split(":", 1)[0] in NOISY_NATIVE_MODULES
    return quiet_native_output() if noisy else contextlib.nullcontext()


def _facts_from_env(
    env_id: str, env: gymnasium.Env, spec_id: str | None = None, obs_names=None, return_floor: float | None = None
) -> EnvSpec:
    obs_space = env.observation_space
    if not isinstance(obs_space, spaces.Box):
        raise ValueError(
            f"{env_id}: observation space {one_line(obs_space)} is not a Box; "
            "only Box (array) observations are supported"
        )
    obs_shape = tuple(int(d) for d in obs_space.shape)
    size = math.prod(obs_shape)
    facts = GYMNAX_FACTS.get(env_id, {})  # Gymnasium and gymnax share these ids and observation orders
    names = obs_names or facts.get("obs_names")
    if names is None or len(names) != size or len(obs_shape) != 1:
        names = tuple(f"obs[{i}]" for i in range(size))

    act_space = env.action_space
    if isinstance(act_space, spaces.Discrete):
        low: tuple[float, ...] = ()
        high: tuple[float, ...] = ()
        discrete, num_actions, action_dim = True, int(act_space.n), 0
    elif isinstance(act_space, spaces.Box):
        if len(act_space.shape) != 1:
            raise ValueError(
                f"{env_id}: action space {one_line(act_space)} is not one-dimensional; "
                "only flat Box actions are supported"
            )
        discrete, num_actions, action_dim = False, 0, int(act_space.shape[0])
        low = tuple(float(x) for x in np.asarray(act_space.low, dtype=np.float64).ravel())
        high = tuple(float(x) for x in np.asarray(act_space.high, dtype=np.float64).ravel())
    else:
        raise ValueError(f"{env_id}: action space {one_line(act_space)} is neither Discrete nor Box")

    spec = env.spec
    max_steps = spec.max_episode_steps if spec is not None else None
    del discrete  # EnvSpec.discrete: num_actions > 0
    floor = facts.get("return_floor") if return_floor is None else return_floor
    return EnvSpec(
        id=spec_id or HOST_PREFIX + env_id,
        env=None,
        params=None,
        obs_shape=obs_shape,
        obs_names=names,
        return_floor=0.0 if floor is None else float(floor),
        floor_known=floor is not None,
        host_id=env_id,
        max_episode_steps=int(max_steps) if max_steps is not None else DEFAULT_MAX_EPISODE_STEPS,
        num_actions=num_actions,
        action_dim=action_dim,
        action_low=low,
        action_high=high,
        raw_obs_shape=obs_shape,
        obs_dtype=np.dtype(obs_space.dtype).name,
        backend="host",
    )


def gymnasium_facts(
    env_id: str, *, spec_id: str | None = None, obs_names=None, return_floor: float | None = None
) -> EnvSpec:
    """Shapes, action space, time limit and observation names of a registered Gymnasium id.

    The spec's id is `gymnasium:<env_id>` unless `spec_id` names it (a registered environment that
    steps on the host: PyBullet's), its names and floor gymnax's facts unless given.
    Raises KeyError for an unknown id and ValueError for observation spaces that are not a Box
    (Dict, Tuple, Discrete, ...) or action spaces that are neither Discrete nor a flat Box.
    """
    with _quiet_if_noisy(env_id):  # importing pybullet prints its build time
        _check_registered(env_id)
        env = gymnasium.make(env_id)
    try:
        return _facts_from_env(env_id, env, spec_id, obs_names, return_floor)
    finally:
        env.close()


class HostVectorEnv:
    """`num_envs` copies of a Gymnasium id, stepped together with same-step autoreset.

    `reset()` seeds copy i with `seed + i` the first time it is called (so a run is reproducible);
    later calls continue from each copy's own random generator, as a copy does when it resets itself
    at the end of an episode. `step(actions)` returns
    `(obs, reward float32 [N], terminated bool [N], truncated bool [N], final_obs [N, ...])`; for a
    copy whose episode ended in this step, `obs[i]` is already the next episode's first observation
    and `final_obs[i]` is the last observation of the episode that ended; otherwise the two are equal.

    Discrete actions (indices 0..num_actions-1) are cast to int64 (and shifted by the space's
    `start` if it is not 0); continuous actions are clipped to the action bounds on a copy.
    Observations are float32, except bool / uint8 observations, which keep their dtype.
    """

    def __init__(self, env_id: str, num_envs: int, seed: int, asynchronous: bool = False):
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.facts = gymnasium_facts(env_id)  # validates the id and the spaces before any env is built
        self.env_id = env_id
        self.num_envs = int(num_envs)
        self.seed = int(seed)
        self.asynchronous = bool(asynchronous)
        self._seeded = False
        self._needs_reset = True
        env_fns = [partial(gymnasium.make, env_id) for _ in range(self.num_envs)]
        self._env: AsyncVectorEnv | SyncVectorEnv
        with _quiet_if_noisy(env_id):
            if self.asynchronous:
                self._env = AsyncVectorEnv(env_fns, context="forkserver", autoreset_mode=AutoresetMode.SAME_STEP)
            else:
                self._env = SyncVectorEnv(env_fns, autoreset_mode=AutoresetMode.SAME_STEP)
        act_space: Any = self._env.single_action_space  # Discrete or Box, as gymnasium_facts checked
        obs_space = self._env.single_observation_space
        self._obs_dtype = (
            np.dtype(obs_space.dtype) if np.dtype(obs_space.dtype) in _KEPT_OBS_DTYPES else np.dtype(np.float32)
        )
        if self.facts.discrete:
            self._action_start = int(act_space.start)
        else:
            self._action_dtype = np.dtype(act_space.dtype)
            self._low = np.asarray(act_space.low, dtype=self._action_dtype)
            self._high = np.asarray(act_space.high, dtype=self._action_dtype)
        self._closed = False

    # -- stepping ---------------------------------------------------------------------------------

    def reset(self) -> np.ndarray:
        """Reset every copy and return the batched first observations `[N, *obs_shape]`."""
        self._check_open()
        obs: Any
        if self._seeded:
            obs, _ = self._env.reset()
        else:
            with _quiet_if_noisy(self.env_id):  # the first reset connects PyBullet's clients
                obs, _ = self._env.reset(seed=self.seed)
            self._seeded = True
        self._needs_reset = False
        return self._convert_obs(obs)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        obs, reward, terminated, truncated, final_obs = self._step_raw(actions)
        return obs, reward.astype(np.float32), terminated, truncated, final_obs

    def _step_raw(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`step`, with rewards as the environments return them (float64) for exact sums."""
        self._check_open()
        if self._needs_reset:
            raise RuntimeError("HostVectorEnv.step called before reset()")
        env_actions = self._env_actions(actions)
        # (gymnasium's vector env step returns untyped arrays)
        obs, reward, terminated, truncated, info = self._env.step(env_actions)  # type: ignore[var-annotated]
        terminated = np.asarray(terminated, dtype=np.bool_).copy()
        truncated = np.asarray(truncated, dtype=np.bool_).copy()
        obs = self._convert_obs(obs)
        final_obs = obs.copy()
        mask = info.get("_final_obs")
        if mask is not None:
            for i in np.flatnonzero(mask):
                final_obs[i] = np.asarray(info["final_obs"][i], dtype=self._obs_dtype)
        return obs, np.asarray(reward, dtype=np.float64).copy(), terminated, truncated, final_obs

    def _env_actions(self, actions: np.ndarray) -> np.ndarray:
        a = np.asarray(actions)
        if self.facts.discrete:
            if a.shape not in ((self.num_envs,), (self.num_envs, 1)):
                raise ValueError(f"expected {self.num_envs} discrete actions, got an array of shape {a.shape}")
            if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.bool_)):
                if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
                    raise ValueError(f"discrete actions must be whole numbers, got {a.reshape(-1)[:8]}")
            out = a.reshape(self.num_envs).astype(np.int64)  # always a new array
            if self._action_start:
                out += self._action_start
            return out
        shape = (self.num_envs, self.facts.action_dim)
        if a.shape != shape:
            if a.size != self.num_envs * self.facts.action_dim:
                raise ValueError(f"expected continuous actions of shape {shape}, got {a.shape}")
            a = a.reshape(shape)
        # np.clip with no `out` allocates, so the caller's array is never modified
        return np.clip(a.astype(self._action_dtype, copy=False), self._low, self._high)

    def _convert_obs(self, obs: Any) -> np.ndarray:
        return np.array(obs, dtype=self._obs_dtype, copy=True)

    # -- lifetime ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("HostVectorEnv is closed")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._env.close()

    def __enter__(self) -> HostVectorEnv:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._closed:
                self.close()
        except Exception:  # interpreter shutdown, half-built object
            pass

    def __repr__(self) -> str:
        kind = "async" if self.asynchronous else "sync"
        return f"HostVectorEnv({self.env_id!r}, num_envs={self.num_envs}, seed={self.seed}, {kind})"


def evaluate_host(
    env_id: str, act: Callable[[np.ndarray], np.ndarray], num_episodes: int, seed: int, max_steps: int | None = None
) -> np.ndarray:
    """Undiscounted return of each of `num_episodes` episodes, one per copy (copy i seeded seed + i).

    Rewards of copy i are summed up to and including its first terminated or truncated step; after
    that its automatic resets are ignored (the policy still sees its observations, but nothing it does
    there counts). `max_steps` caps the steps per episode; by default the id's registered time limit
    (1000 if it has none) is the cap. Returns float64 `[num_episodes]`.
    """
    num_episodes = int(num_episodes)
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be >= 1, got {num_episodes}")
    returns = np.zeros(num_episodes, dtype=np.float64)
    done = np.zeros(num_episodes, dtype=np.bool_)
    with HostVectorEnv(env_id, num_episodes, seed) as env:
        limit = env.facts.max_episode_steps if max_steps is None else int(max_steps)
        obs = env.reset()
        for _ in range(limit):
            obs, reward, terminated, truncated, _ = env._step_raw(act(obs))
            returns += np.where(done, 0.0, reward)
            done |= terminated | truncated
            if done.all():
                break
    return returns
