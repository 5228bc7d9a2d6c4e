"""Greedy evaluation episodes, run inside the compiled training program, and best-checkpoint
tracking of the RL runners."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def evaluate_greedy(key, act_fn, spec, num_episodes: int, epsilon: float = 0.0):
    """Mean undiscounted return of `num_episodes` greedy episodes run to their end.

    `act_fn(obs_batch) -> logits` (or Q-values). With `epsilon` > 0 each action is uniformly random
    with that probability (DQN's evaluation epsilon). Each episode runs at most
    `spec.max_episode_steps` steps; rewards after an episode's first termination or truncation are
    ignored.
    """
    env, env_params = spec.env, spec.params
    k_reset, k_steps = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), env_params)

    def step(carry, step_key):
        obs, state, alive, total = carry
        action = jnp.argmax(act_fn(obs), axis=-1)
        if epsilon > 0.0:
            step_key, k_explore, k_random = jax.random.split(step_key, 3)
            explore = jax.random.uniform(k_explore, action.shape) < epsilon
            action = jnp.where(explore, jax.random.randint(k_random, action.shape, 0, spec.num_actions), action)
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


def fresh_tracking(params, num_envs: int, num_evals: int) -> dict:
    """The RL runner fields that `count_episodes`, `track_evaluation` and `rl_output` use, at the
    start of training."""
    return dict(
        params=params,
        episode_return=jnp.zeros(num_envs),
        finished_return_sum=jnp.zeros(()),
        finished_count=jnp.zeros((), jnp.int32),
        best_params=params,
        best_return=jnp.array(-jnp.inf),
        eval_returns=jnp.zeros(num_evals),
        train_returns=jnp.zeros(num_evals),
        rewind_params=params,
    )


def track_evaluation(runner, ret, slot):
    """Record evaluation `slot` in an RL runner (fields params, best_params, best_return,
    eval_returns, train_returns, finished_return_sum, finished_count): keep the params if `ret` is
    the best so far, and close the interval's mean training-episode return (nan: none finished)."""
    better = ret >= runner.best_return  # ties go to the later, longer-trained checkpoint
    best = jax.tree_util.tree_map(lambda n, o: jnp.where(better, n, o), runner.params, runner.best_params)
    train_mean = jnp.where(
        runner.finished_count > 0, runner.finished_return_sum / jnp.maximum(runner.finished_count, 1), jnp.nan
    )
    return runner.replace(
        best_params=best,
        best_return=jnp.maximum(ret, runner.best_return),
        eval_returns=runner.eval_returns.at[slot].set(ret),
        train_returns=runner.train_returns.at[slot].set(train_mean),
        finished_return_sum=jnp.zeros_like(runner.finished_return_sum),
        finished_count=jnp.zeros_like(runner.finished_count),
    )


def count_episodes(runner, reward, done):
    """Add one env step's rewards to the running episode returns; close finished episodes into the
    interval's sum and count (the training curve)."""
    episode_return = runner.episode_return + reward
    return runner.replace(
        episode_return=jnp.where(done, 0.0, episode_return),
        finished_return_sum=runner.finished_return_sum + jnp.sum(jnp.where(done, episode_return, 0.0)),
        finished_count=runner.finished_count + jnp.sum(done),
    )


def rl_output(runner):
    """The TrainOutput of an RL runner after its last evaluation."""
    from ticketlab.agents.output import TrainOutput

    return TrainOutput(
        best_params=runner.best_params,
        best_return=runner.best_return,
        final_params=runner.params,
        final_return=runner.eval_returns[-1],
        eval_returns=runner.eval_returns,
        train_curve=runner.train_returns,
        rewind_params=runner.rewind_params,
        data_digest=jnp.zeros(()),
    )
