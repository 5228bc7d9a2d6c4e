"""Greedy evaluation episodes, run inside the compiled training program."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def evaluate_greedy(key, act_fn, spec, num_episodes: int):
    """Mean undiscounted return of `num_episodes` greedy episodes run to their end.

    `act_fn(obs_batch) -> logits`. Each episode runs at most `spec.max_episode_steps` steps;
    rewards after an episode's first termination or truncation are ignored.
    """
    env, env_params = spec.env, spec.params
    k_reset, k_steps = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), env_params)

    def step(carry, step_key):
        obs, state, alive, total = carry
        action = jnp.argmax(act_fn(obs), axis=-1)
        keys = jax.random.split(step_key, num_episodes)
        obs, state, reward, terminated, truncated, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            keys, state, action, env_params
        )
        total = total + reward * alive
        alive = alive * (1.0 - jnp.logical_or(terminated, truncated))
        return (obs, state, alive, total), None

    init = (obs, state, jnp.ones(num_episodes), jnp.zeros(num_episodes))
    (_, _, _, total), _ = jax.lax.scan(step, init, jax.random.split(k_steps, spec.max_episode_steps))
    return total.mean()
