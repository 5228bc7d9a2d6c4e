"""Discrete-action PPO as one pure, jit-compiled function `train(keys, start_params, mask)`.

Rollouts, GAE, the clipped-surrogate update and greedy evaluation all run inside one `lax.scan`;
`jax.vmap` over `train` runs every (seed, condition) of an IMP level in one compiled call. The
training function never knows the IMP condition: conditions only choose (start_params, mask).
"""
from __future__ import annotations

from typing import Any

import distrax
import jax
import jax.numpy as jnp
import optax
from flax import struct

from ticketlab.agents.evaluate import (
    count_episodes,
    evaluate_greedy,
    fresh_tracking,
    rl_output,
    track_evaluation,
)
from ticketlab.agents.gae import gae
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.config import PPOConfig
from ticketlab.networks.mlp import MLP, policy_logits, state_value
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


@struct.dataclass
class Transition:
    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    done: jax.Array
    bootstrap: jax.Array
    """gamma * V(final observation) on truncated, non-terminal steps, else 0."""


@struct.dataclass
class Runner:
    params: Any
    opt_state: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array
    episode_return: jax.Array
    finished_return_sum: jax.Array
    finished_count: jax.Array
    best_params: Any
    best_return: jax.Array
    eval_returns: jax.Array
    train_returns: jax.Array
    rewind_params: Any


def schedule(cfg: PPOConfig, spec) -> dict:
    """Static sizes of one training run."""
    batch = cfg.num_envs * cfg.rollout_len
    num_updates = cfg.total_steps // batch
    return {
        "num_updates": num_updates,
        "env_steps": num_updates * batch,
        "num_evals": -(-num_updates // cfg.eval_every),
        "minibatch_size": batch // cfg.minibatches,
    }


def make_train(cfg: PPOConfig, spec, actor: MLP, critic: MLP, rewind_update: int = 0, weight_decay: float = 0.0):
    """Build `train(keys, start_params, mask) -> TrainOutput` (pure; jit and vmap it)."""
    sizes = schedule(cfg, spec)
    num_updates, num_evals, mb_size = sizes["num_updates"], sizes["num_evals"], sizes["minibatch_size"]
    env, env_params, E, T = spec.env, spec.params, cfg.num_envs, cfg.rollout_len
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    grad_steps = num_updates * cfg.epochs * cfg.minibatches
    lr = optax.linear_schedule(cfg.lr, 0.0, grad_steps) if cfg.lr_schedule == "linear" else cfg.lr
    tx = adam(lr, cfg.max_grad_norm, weight_decay)

    def loss_fn(params, mask, batch: Transition, advantages, targets):
        p = apply_mask(params, mask)
        dist = distrax.Categorical(logits=policy_logits(actor, p, batch.obs))
        log_prob = dist.log_prob(batch.action)
        value = state_value(critic, p, batch.obs)
        if cfg.normalize_advantages:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        ratio = jnp.exp(log_prob - batch.log_prob)
        clipped = jnp.clip(ratio, 1.0 - cfg.clip_eps, 1.0 + cfg.clip_eps)
        policy_loss = -jnp.minimum(ratio * advantages, clipped * advantages).mean()
        value_loss = 0.5 * ((value - targets) ** 2).mean()
        entropy = dist.entropy().mean()
        return policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy

    def rollout_step(runner: Runner, mask):
        key, k_act, k_env = jax.random.split(runner.key, 3)
        p = apply_mask(runner.params, mask)
        dist = distrax.Categorical(logits=policy_logits(actor, p, runner.obs))
        action = dist.sample(seed=k_act)
        value = state_value(critic, p, runner.obs)
        obs, env_state, reward, terminated, truncated, info = step_env(
            jax.random.split(k_env, E), runner.env_state, action, env_params
        )
        done = jnp.logical_or(terminated, truncated)
        bootstrap_needed = jnp.logical_and(truncated, jnp.logical_not(terminated))
        transition = Transition(
            runner.obs, action, dist.log_prob(action), value, reward, done, bootstrap_needed
        )
        runner = count_episodes(runner.replace(env_state=env_state, obs=obs, key=key), reward, done)
        return runner, (transition, info["final_observation"])

    def update(runner: Runner, mask, update_index):
        runner, (traj, final_obs) = jax.lax.scan(lambda r, _: rollout_step(r, mask), runner, None, T)
        p = apply_mask(runner.params, mask)
        final_values = state_value(critic, p, final_obs)
        rewards = traj.reward + cfg.gamma * final_values * traj.bootstrap
        last_value = state_value(critic, p, runner.obs)
        advantages, targets = gae(rewards, traj.value, traj.done, last_value, cfg.gamma, cfg.gae_lambda)

        flat = jax.tree_util.tree_map(lambda x: x.reshape((T * E,) + x.shape[2:]), (traj, advantages, targets))

        def epoch(carry, _):
            params, opt_state, key = carry
            key, k_perm = jax.random.split(key)
            perm = jax.random.permutation(k_perm, T * E)
            shuffled = jax.tree_util.tree_map(
                lambda x: x[perm].reshape((cfg.minibatches, mb_size) + x.shape[1:]), flat
            )

            def minibatch(carry, mb):
                params, opt_state = carry
                grads = jax.grad(loss_fn)(params, mask, *mb)
                params, opt_state = masked_step(tx, grads, opt_state, params, mask)
                return (params, opt_state), None

            (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), shuffled)
            return (params, opt_state, key), None

        (params, opt_state, key), _ = jax.lax.scan(
            epoch, (runner.params, runner.opt_state, runner.key), None, cfg.epochs
        )
        rewind = jax.tree_util.tree_map(
            lambda new, old: jnp.where(update_index + 1 == rewind_update, new, old), params, runner.rewind_params
        )
        return runner.replace(params=params, opt_state=opt_state, key=key, rewind_params=rewind)

    def evaluate_and_track(runner: Runner, mask, slot):
        key, k_eval = jax.random.split(runner.key)
        p = apply_mask(runner.params, mask)
        ret = evaluate_greedy(k_eval, lambda o: policy_logits(actor, p, o), spec, cfg.eval_episodes)
        return track_evaluation(runner.replace(key=key), ret, slot)

    def train(keys: RunKeys, start_params, mask) -> TrainOutput:
        params = apply_mask(start_params, mask)
        k_reset, k_run = jax.random.split(keys.train)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, E), env_params)
        runner = Runner(
            opt_state=tx.init(params),
            env_state=env_state,
            obs=obs,
            key=k_run,
            **fresh_tracking(params, E, num_evals),
        )

        def body(runner, update_index):
            # `update_index` is the scan's unbatched input, so under vmap this stays a real branch.
            runner = update(runner, mask, update_index)
            is_eval = jnp.logical_or((update_index + 1) % cfg.eval_every == 0, update_index + 1 == num_updates)
            runner = jax.lax.cond(
                is_eval,
                lambda r: evaluate_and_track(r, mask, update_index // cfg.eval_every),
                lambda r: r,
                runner,
            )
            return runner, None

        runner, _ = jax.lax.scan(body, runner, jnp.arange(num_updates))
        return rl_output(runner)

    return train
