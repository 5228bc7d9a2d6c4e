"""Facts about gymnax environments that their spaces do not carry: observation names (in
Gymnasium's order, which gymnax follows), return floors, and MinAtar's image layout and channel
names (MinAtar's own `channels` dicts; gymnax MinAtar observations are height x width x channels).

MinAtar screens are 0/1 by construction: they are served as bool (`binary_obs`, so replay packs
them into bits) and repeat the previous action with probability 0.1, the reference `minatar`
package's default (`sticky_actions`; `--env.sticky-actions 0` turns it off)."""

from __future__ import annotations

PENDULUM_WORST_STEP = 3.14159265**2 + 0.1 * 8.0**2 + 0.001 * 2.0**2
"""Gymnasium's Pendulum cost at its worst: theta = pi, theta dot = 8, torque = 2."""

MINATAR = dict(binary_obs=True, sticky_actions=0.1)

GYMNAX_FACTS: dict[str, dict] = {
    "CartPole-v1": dict(
        aliases=("cartpole",),
        return_floor=0.0,
        obs_names=("cart position", "cart velocity", "pole angle", "pole angular velocity"),
    ),
    "Acrobot-v1": dict(
        aliases=("acrobot",),
        return_floor=-500.0,
        obs_names=("cos theta1", "sin theta1", "cos theta2", "sin theta2", "theta1 dot", "theta2 dot"),
    ),
    "Pendulum-v1": dict(
        aliases=("pendulum",),
        return_floor=-200 * PENDULUM_WORST_STEP,
        obs_names=("cos theta", "sin theta", "theta dot"),
    ),
    "MountainCarContinuous-v0": dict(
        aliases=("mountaincar-continuous",), return_floor=-0.1 * 999, obs_names=("position", "velocity")
    ),
    "MountainCar-v0": dict(aliases=("mountaincar",), return_floor=-200.0, obs_names=("position", "velocity")),
    "Breakout-MinAtar": dict(
        aliases=("breakout-minatar",),
        return_floor=0.0,
        image_layout="HWC",
        **MINATAR,
        channel_names=("paddle", "ball", "trail", "brick"),
    ),
    "SpaceInvaders-MinAtar": dict(
        aliases=("spaceinvaders-minatar",),
        return_floor=0.0,
        image_layout="HWC",
        **MINATAR,
        channel_names=("cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet"),
    ),
    "Freeway-MinAtar": dict(
        aliases=("freeway-minatar",),
        return_floor=0.0,
        image_layout="HWC",
        **MINATAR,
        channel_names=("chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5"),
    ),
    "Asterix-MinAtar": dict(
        aliases=("asterix-minatar",),
        return_floor=0.0,
        image_layout="HWC",
        **MINATAR,
        channel_names=("player", "enemy", "trail", "gold"),
    ),
    "Seaquest-MinAtar": dict(
        aliases=("seaquest-minatar",),
        return_floor=0.0,
        image_layout="HWC",
        **MINATAR,
        channel_names=(
            "sub_front",
            "sub_back",
            "friendly_bullet",
            "trail",
            "enemy_bullet",
            "enemy_fish",
            "enemy_sub",
            "oxygen_guage",
            "diver_guage",
            "diver",
        ),
    ),
}
