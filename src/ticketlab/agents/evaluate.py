"""Evaluation episodes, run inside the compiled training program."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def evaluate_episodes(key, act, spec, num_episodes: int):
    """Mean undiscounted return of `num_episodes` episodes run to their end (at most
    `spec.max_episode_steps` steps; rewards after an episode's first termination or truncation are
    ignored). `act(step_key, obs_batch) -> (env_actions, step_key)` may draw from `step_key`
    (sampling, exploration) and returns the key left for the environment.

    The loop stops when every episode has ended (under vmap: every run's), so short episodes cost
    short evaluations; step t always uses the t-th of the same pre-split keys, so where it stops
    changes nothing in the returns."""
    env, env_params = spec.env, spec.params
    k_reset, k_steps = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), env_params)
    step_keys = jax.random.split(k_steps, spec.max_episode_steps)

    def step(t, env_carry):
        obs, state = env_carry
        action, step_key = act(step_keys[t], obs)
        keys = jax.random.split(step_key, num_episodes)
        obs, state, reward, terminated, truncated, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            keys, state, action, env_params
        )
        return (obs, state), reward, jnp.logical_or(terminated, truncated)

    _, total = episode_returns(step, (obs, state), spec.max_episode_steps, (num_episodes,))
    return total.mean()


def episode_returns(step, env_carry, max_steps: int, shape):
    """(env_carry, undiscounted returns [shape]) of episodes stepped together until each has ended
    or `max_steps` steps have passed; rewards after an episode's first end are ignored.
    `step(t, env_carry) -> (env_carry, reward [shape], ended [shape])` steps every episode once."""

    def body(carry):
        t, env_carry, alive, total = carry
        env_carry, reward, ended = step(t, env_carry)
        total = total + reward.astype(jnp.float32) * alive
        alive = alive * (1.0 - ended.astype(jnp.float32))
        return t + 1, env_carry, alive, total

    def running(carry):
        t, _, alive, _ = carry
        return jnp.logical_and(t < max_steps, jnp.any(alive > 0))

    init = (jnp.zeros((), jnp.int32), env_carry, jnp.ones(shape), jnp.zeros(shape))
    _, env_carry, _, total = jax.lax.while_loop(running, body, init)
    return env_carry, total


def policy_actor(head, out_fn, policy: str):
    """`act` for `evaluate_episodes` from a policy head: the mode ("greedy") or a draw ("sample")."""
    def act(step_key, obs):
        out = out_fn(obs)
        if policy == "greedy":
            return head.to_env(head.mode(out)), step_key
        step_key, k_act = jax.random.split(step_key)
        return head.to_env(head.distribution(out).sample(seed=k_act)), step_key

    return act


def epsilon_greedy_actor(values_fn, num_actions: int, epsilon: float = 0.0):
    """`act` for `evaluate_episodes`: argmax of `values_fn(obs)` (Q-values or logits), uniformly
    random with probability `epsilon` (DQN's evaluation epsilon)."""
    def act(step_key, obs):
        action = jnp.argmax(values_fn(obs), axis=-1)
        if epsilon > 0.0:
            step_key, k_explore, k_random = jax.random.split(step_key, 3)
            explore = jax.random.uniform(k_explore, action.shape) < epsilon
            action = jnp.where(explore, jax.random.randint(k_random, action.shape, 0, num_actions), action)
        return action, step_key

    return act
