"""Generalized advantage estimation as a reverse scan."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gae(rewards, values, dones, last_value, gamma: float, lam: float):
    """Advantages and returns for time-major arrays [T, ...].

    `dones[t]` ends the trajectory after step t (no bootstrap across it); a truncated step's
    bootstrap value must already be folded into `rewards[t]`.
    """

    def step(carry, xs):
        next_adv, next_value = carry
        reward, value, done = xs
        not_done = 1.0 - done
        delta = reward + gamma * next_value * not_done - value
        adv = delta + gamma * lam * not_done * next_adv
        return (adv, value), adv

    init = (jnp.zeros_like(last_value), last_value)
    _, advantages = jax.lax.scan(step, init, (rewards, values, dones.astype(values.dtype)), reverse=True)
    return advantages, advantages + values
