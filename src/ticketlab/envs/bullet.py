"""The paper's four PyBullet locomotion tasks (pybullet-envs-gymnasium, the `[bullet]` extra),
stepped on the host, with every observation dimension named from the Roboschool layout the paper
used (its figure 7 reads them).

A walker's observation (`WalkerBase.calc_state`) is 8 "more" dimensions (`BODY`), then the
relative position and speed of each joint in the robot's `ordered_joints` order, then one contact
flag per foot in its `foot_list` order, all clipped to [-5, 5]. `JOINTS` and `FEET` write those
lists out (tests/test_bullet.py checks them against the environments' own robots).

Return floors: a locomotion return has no finite worst case (electricity costs grow with the
torques), so the floor of normalized plots is the mean return of uniformly random actions (50
episodes, seeds 0-49, measured with pybullet 3.2.7): normalized 0 is a random policy, 1 the dense
agent.
"""

from __future__ import annotations

import importlib

from ticketlab.core.errors import ConfigError
from ticketlab.envs.host import NOISY_NATIVE_MODULES, one_line, quiet_native_output

MODULE = "pybullet_envs_gymnasium"
"""The module whose import registers the ids with Gymnasium."""

INSTALL = 'pip install -e ".[bullet]"'

NOISY_NATIVE_MODULES.add(MODULE)

BODY = ("z - z0", "sin(angle to target)", "cos(angle to target)", "0.3 vx", "0.3 vy", "0.3 vz", "roll", "pitch")

JOINTS = {
    "HopperBulletEnv-v0": ("thigh_joint", "leg_joint", "foot_joint"),
    "Walker2DBulletEnv-v0": (
        "thigh_joint",
        "leg_joint",
        "foot_joint",
        "thigh_left_joint",
        "leg_left_joint",
        "foot_left_joint",
    ),
    "HalfCheetahBulletEnv-v0": ("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"),
    "AntBulletEnv-v0": ("hip_1", "ankle_1", "hip_2", "ankle_2", "hip_3", "ankle_3", "hip_4", "ankle_4"),
}

FEET = {
    "HopperBulletEnv-v0": ("foot",),
    "Walker2DBulletEnv-v0": ("foot", "foot_left"),
    "HalfCheetahBulletEnv-v0": ("ffoot", "fshin", "fthigh", "bfoot", "bshin", "bthigh"),
    "AntBulletEnv-v0": ("front_left_foot", "front_right_foot", "left_back_foot", "right_back_foot"),
}

RANDOM_RETURNS = {
    "HopperBulletEnv-v0": 20.0,
    "Walker2DBulletEnv-v0": 16.6,
    "HalfCheetahBulletEnv-v0": -1260.3,
    "AntBulletEnv-v0": 371.5,
}
"""Mean return of uniformly random actions (the plots' floor; see the module docstring)."""

ALIASES = {
    "HopperBulletEnv-v0": "hopper-bullet",
    "Walker2DBulletEnv-v0": "walker2d-bullet",
    "HalfCheetahBulletEnv-v0": "halfcheetah-bullet",
    "AntBulletEnv-v0": "ant-bullet",
}


def obs_names(env_id: str) -> tuple[str, ...]:
    """Every observation dimension of a Bullet walker, in the environment's order."""
    joints = tuple(f"{joint} {part}" for joint in JOINTS[env_id] for part in ("position", "speed"))
    return BODY + joints + tuple(f"{foot} contact" for foot in FEET[env_id])


def require_bullet(env_id: str) -> None:
    """Import the module that registers the Bullet ids; one line naming the extra to install when
    pybullet-envs-gymnasium (or pybullet) is missing."""
    try:
        with quiet_native_output():  # importing pybullet prints its build time
            importlib.import_module(MODULE)
    except ImportError as err:
        raise ConfigError(
            "env.name", f"{env_id} needs pybullet-envs-gymnasium ({one_line(err)}); run: {INSTALL}"
        ) from None


def host_id(env_id: str) -> str:
    """The Gymnasium id the host steps (`module:id` imports the registering module first)."""
    return f"{MODULE}:{env_id}"
