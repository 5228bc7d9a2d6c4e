"""Brax locomotion (the `[brax]` extra) as gymnax environments, so PPO on them is one compiled
program like Cart-Pole's: hopper, walker2d, halfcheetah and ant on a chosen physics backend.

Their observations are MuJoCo's layout, not the paper's Bullet one (Hopper 11, Walker2d 17,
HalfCheetah 17, Ant 27 dimensions): joint positions (`qpos`, the first one or two root
coordinates excluded, as Brax does) then joint velocities (`qvel`), each named from the model's own
joints (`obs_names`; Hopper and Walker2d observe the torso's world height where qpos has rootz).
An episode ends when Brax reports the robot unhealthy (a termination) or
after 1,000 steps (a truncation).

Brax's state after a step carries weak-typed floats; every state leaf is cast to its own dtype, so
the scan's carry keeps one type and nothing recompiles.

Ids: `brax:<task>` (the spring backend, the fastest on CPU) or `brax:<task>:<backend>` with a
backend of `BACKENDS`; aliases `<task>-brax`.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from ticketlab.core.errors import ConfigError
from ticketlab.envs.host import one_line, quiet_native_output

PREFIX = "brax:"
TASKS = ("hopper", "walker2d", "halfcheetah", "ant")
BACKENDS = ("spring", "positional", "generalized", "mjx")
DEFAULT_BACKEND = "spring"
INSTALL = 'pip install -e ".[brax]"'
EPISODE_STEPS = 1000

RANDOM_RETURNS = {"hopper": 154.6, "walker2d": 228.1, "halfcheetah": -59.8, "ant": -280.3}
"""Mean return of uniformly random actions (the plots' floor, as for Bullet: envs/bullet.py): 64
episodes of `evaluate_episodes` from PRNGKey(0) on the spring backend, brax 0.14.2
(tests/test_brax.py re-measures Hopper's)."""

TORSO_HEIGHT_AT = {"hopper": 1, "walker2d": 1}
"""Brax's Hopper and Walker2d observe the torso's world height in place of qpos[1] (rootz)."""

_FREE_POSITIONS = ("x", "y", "z", "qw", "qx", "qy", "qz")
_FREE_VELOCITIES = ("vx", "vy", "vz", "wx", "wy", "wz")


class BraxEnvState(struct.PyTreeNode):
    pipeline: Any
    """Brax's own State (physics state, observation, reward, done, metrics)."""
    time: jax.Array


class BraxEnvParams(struct.PyTreeNode):
    max_steps_in_episode: int = EPISODE_STEPS


def _typed(tree):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.asarray(x).dtype), tree)


class BraxEnv(environment.Environment):
    """A Brax environment behind gymnax 1.0's API (auto-reset and truncation come from gymnax)."""

    def __init__(self, task: str, backend: str = DEFAULT_BACKEND):
        super().__init__()
        import mujoco  # the [brax] extra (mujoco comes with brax)
        from brax import envs  # the [brax] extra; imported here so the core never needs it

        if mujoco.get_mju_user_warning() is None:  # MuJoCo's default handler appends to ./MUJOCO_LOG.TXT
            mujoco.set_mju_user_warning(lambda text: warnings.warn(f"MuJoCo: {text}", stacklevel=2))
        with _silenced():
            self.brax = envs.get_environment(task, backend=backend)
        self.task, self.backend = task, backend

    @property
    def default_params(self) -> BraxEnvParams:
        return BraxEnvParams()

    def step_env(self, key, state: BraxEnvState, action, params):
        nxt = _typed(self.brax.step(state.pipeline, action))
        return nxt.obs, BraxEnvState(nxt, state.time + 1), nxt.reward, nxt.done > 0.5, {}

    def reset_env(self, key, params):
        first = _typed(self.brax.reset(key))
        return first.obs, BraxEnvState(first, jnp.zeros((), jnp.int32))

    def observation_space(self, params):
        return spaces.Box(-jnp.inf, jnp.inf, (self.brax.observation_size,), jnp.float32)

    def action_space(self, params):
        """The actuators' control range, from the model (all four tasks: [-1, 1])."""
        ranges = jnp.asarray(self.brax.sys.actuator.ctrl_range, jnp.float32)
        return spaces.Box(ranges[:, 0], ranges[:, 1], (self.brax.action_size,), jnp.float32)

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.task}:{self.backend}"


def obs_names(env: BraxEnv) -> tuple[str, ...]:
    """`qpos <joint>[ coordinate]` then `qvel <joint>[ coordinate]`, from the MuJoCo model's
    joints in order; the leading root positions Brax leaves out are left out."""
    import mujoco  # the [brax] extra (mujoco comes with brax)

    model = env.brax.sys.mj_model
    positions, velocities = [], []
    for j in range(model.njnt):
        joint = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j)
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
            positions += [f"qpos {joint} {c}" for c in _FREE_POSITIONS]
            velocities += [f"qvel {joint} {c}" for c in _FREE_VELOCITIES]
        elif model.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL:
            positions += [f"qpos {joint} {c}" for c in ("qw", "qx", "qy", "qz")]
            velocities += [f"qvel {joint} {c}" for c in ("wx", "wy", "wz")]
        else:
            positions.append(f"qpos {joint}")
            velocities.append(f"qvel {joint}")
    if env.task in TORSO_HEIGHT_AT:
        positions[TORSO_HEIGHT_AT[env.task]] = "torso z (world)"
    excluded = len(positions) + len(velocities) - env.brax.observation_size
    if not 0 <= excluded <= len(positions):  # a layout this reading does not know (e.g. contact forces)
        return tuple(f"obs[{i}]" for i in range(env.brax.observation_size))
    return tuple(positions[excluded:] + velocities)


def canonical(env_id: str) -> str:
    """`brax:<task>` runs the default backend: `brax:<task>:spring`."""
    return f"{env_id}:{DEFAULT_BACKEND}" if env_id.count(":") == 1 else env_id


def parse(env_id: str) -> tuple[str, str]:
    """(task, backend) of `brax:<task>[:<backend>]`; one line naming the bad part otherwise."""
    parts = env_id[len(PREFIX) :].split(":")
    task, backend = parts[0], parts[1] if len(parts) > 1 else DEFAULT_BACKEND
    if len(parts) > 2 or task not in TASKS:
        bad = task if len(parts) <= 2 else env_id
        raise ConfigError(
            "env.name",
            f"unknown Brax task {bad!r}; allowed: {', '.join(PREFIX + t for t in TASKS)} (optionally :<backend>)",
        )
    if backend not in BACKENDS:
        raise ConfigError("env.name", f"unknown Brax backend {backend!r} of {task}; allowed: {', '.join(BACKENDS)}")
    return task, backend


@contextlib.contextmanager
def _silenced():
    """Brax's import and environment construction, quiet: it logs its missing optional backends
    (warp), warns that its own pipelines are unmaintained, and MuJoCo prints model deprecations;
    none of it is the user's to act on (docs/continuous-control.md says what Brax is here)."""
    with quiet_native_output(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def require_brax(env_id: str) -> None:
    try:
        with _silenced():
            importlib.import_module("brax.envs")
    except ImportError as err:
        raise ConfigError("env.name", f"{env_id} needs brax ({one_line(err)}); run: {INSTALL}") from None
