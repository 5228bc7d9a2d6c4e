"""Evaluation stops once every episode has ended, and returns exactly what running all
max_episode_steps would."""

import jax
import jax.numpy as jnp
import pytest

from ticketlab.agents.heads import epsilon_greedy_actor
from ticketlab.envs.gymnax_envs import evaluate_episodes
from ticketlab.envs.registry import make_env


def full_length(key, act, spec, num_episodes):
    """The reference: every episode stepped for max_episode_steps, rewards after the end ignored."""
    env, params = spec.env, spec.params
    k_reset, k_steps = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), params)

    def step(carry, step_key):
        obs, state, alive, total = carry
        action, step_key = act(step_key, obs)
        obs, state, reward, terminated, truncated, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(step_key, num_episodes), state, action, params
        )
        return (obs, state, alive * (1.0 - (terminated | truncated)), total + reward * alive), None

    init = (obs, state, jnp.ones(num_episodes), jnp.zeros(num_episodes))
    (_, _, _, total), _ = jax.lax.scan(step, init, jax.random.split(k_steps, spec.max_episode_steps))
    return total.mean()


@pytest.mark.slow  # long evaluation loops compiled twice
def test_early_stop_matches_the_full_length_loop():
    for name, eps in (("CartPole-v1", 1.0), ("CartPole-v1", 0.3), ("Acrobot-v1", 0.5)):
        spec = make_env(name)
        weights = jax.random.normal(jax.random.PRNGKey(1), (spec.obs_shape[0], spec.num_actions))
        act = epsilon_greedy_actor(lambda o: o @ weights, spec.num_actions, eps)
        keys = jax.random.split(jax.random.PRNGKey(7), 3)
        got = jax.jit(jax.vmap(lambda k: evaluate_episodes(k, act, spec, 4)))(keys)
        want = jax.jit(jax.vmap(lambda k: full_length(k, act, spec, 4)))(keys)
        assert (got == want).all(), (name, eps, got, want)
        assert ((got >= -500) & (got <= 500)).all()
