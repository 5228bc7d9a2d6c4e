"""DQN (Mnih et al., 2015) with double-Q targets (van Hasselt et al., 2016) and prioritized replay
(Schaul et al., 2016) as one pure, jit-compiled function `train(keys, start_params, mask)`.

Each iteration of the `lax.scan` steps `num_envs` environments for batch_size / replay_ratio env
steps with an epsilon-greedy policy, adds the transitions to the replay buffer, and (once
`learning_starts` steps are in) takes one Adam step on a prioritized batch with the Huber loss and
importance weights, then writes the new |TD error| priorities. The target network is a hard copy
every `target_update_every` updates. `jax.vmap` over `train` runs every (seed, condition) of an
IMP level in one compiled call; the iteration index is the scan's unbatched input, so the
learn / target-copy / evaluate branches stay real branches under vmap.

Params are `{"q": ...}`; the mask is applied in every forward pass and after every optimizer step.
"""
from __future__ import annotations

from typing import Any

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
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.agents.replay import Transition, compactor, importance_weights, make_buffer, new_priorities
from ticketlab.config import DQNConfig
from ticketlab.envs.encodings import encode, encoder_params
from ticketlab.networks.mlp import MLP
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


@struct.dataclass
class Runner:
    params: Any
    target: Any
    opt_state: Any
    buffer: Any
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


def schedule(cfg: DQNConfig) -> dict:
    """Static sizes of one training run."""
    per_iteration = cfg.batch_size // cfg.replay_ratio
    num_iterations = cfg.total_steps // per_iteration
    start = -(-cfg.learning_starts // per_iteration)
    return {
        "steps_per_iteration": per_iteration,
        "rollout_len": per_iteration // cfg.num_envs,
        "num_iterations": num_iterations,
        "first_update": start,
        "num_updates": max(num_iterations - start, 0),
        "env_steps": num_iterations * per_iteration,
        "num_evals": -(-num_iterations // cfg.eval_every),
    }


def epsilon(cfg: DQNConfig, env_step):
    """Linear annealing from eps_start to eps_final over eps_anneal_steps, then constant."""
    frac = jnp.clip(env_step / max(cfg.eps_anneal_steps, 1), 0.0, 1.0)
    return cfg.eps_start + frac * (cfg.eps_final - cfg.eps_start)


def priority_beta(cfg: DQNConfig, update, num_updates: int):
    """Linear annealing of the importance-weight exponent over the run's updates."""
    frac = jnp.clip(update / max(num_updates - 1, 1), 0.0, 1.0)
    return cfg.priority_beta_start + frac * (cfg.priority_beta_final - cfg.priority_beta_start)


def td_targets(q_next_online, q_next_target, reward, discount, gamma: float, double_q: bool):
    """r + gamma * discount * Q_target(s', a*), a* = argmax_a Q_online(s', a) (double Q) or
    argmax_a Q_target(s', a) (vanilla)."""
    chooser = q_next_online if double_q else q_next_target
    best = jnp.argmax(chooser, axis=-1)
    next_value = jnp.take_along_axis(q_next_target, best[..., None], axis=-1)[..., 0]
    return reward + gamma * discount * next_value


def make_train(cfg: DQNConfig, spec, qnet: MLP, rewind_update: int = 0, weight_decay: float = 0.0):
    """Build `train(keys, start_params, mask) -> TrainOutput` (pure; jit and vmap it)."""
    sizes = schedule(cfg)
    num_iterations, first_update = sizes["num_iterations"], sizes["first_update"]
    num_updates, num_evals, T = sizes["num_updates"], sizes["num_evals"], sizes["rollout_len"]
    env, env_params, E = spec.env, spec.params, cfg.num_envs
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    obs_dtype = env.observation_space(env_params).dtype
    pack, unpack = compactor(spec.raw_obs_shape, obs_dtype)
    buffer = make_buffer(cfg.buffer_size, cfg.batch_size, cfg.priority_alpha)
    tx = adam(cfg.lr, cfg.max_grad_norm, weight_decay)
    use_dropout = qnet.dropout > 0.0

    def q_values(params, enc, obs, train=False, key=None):
        x = encode(spec.encoder, enc, obs)
        if train and use_dropout:
            return qnet.apply({"params": params["q"]}, x, train=True, rngs={"dropout": key})
        return qnet.apply({"params": params["q"]}, x)

    def loss_fn(params, target, mask, enc, batch: Transition, weights, key):
        p = apply_mask(params, mask)
        obs, next_obs = unpack(batch.obs), unpack(batch.next_obs)
        q = q_values(p, enc, obs, train=True, key=key)
        q_taken = jnp.take_along_axis(q, batch.action[:, None], axis=-1)[:, 0]
        q_next_online = q_values(p, enc, next_obs) if cfg.double_q else None
        y = td_targets(q_next_online, q_values(target, enc, next_obs), batch.reward, batch.discount,
                       cfg.gamma, cfg.double_q)
        td = q_taken - jax.lax.stop_gradient(y)
        loss = jnp.mean(weights * optax.huber_loss(td, delta=cfg.huber_delta))
        return loss, td

    def collect_step(runner: Runner, inputs):
        p, enc, eps = inputs
        key, k_explore, k_random, k_env = jax.random.split(runner.key, 4)
        greedy = jnp.argmax(q_values(p, enc, runner.obs), axis=-1)
        explore = jax.random.uniform(k_explore, (E,)) < eps
        action = jnp.where(explore, jax.random.randint(k_random, (E,), 0, spec.num_actions), greedy)
        obs, env_state, reward, terminated, truncated, info = step_env(
            jax.random.split(k_env, E), runner.env_state, action, env_params
        )
        done = jnp.logical_or(terminated, truncated)
        transition = Transition(
            obs=pack(runner.obs),
            action=action.astype(jnp.int32),
            reward=reward.astype(jnp.float32),
            discount=1.0 - terminated.astype(jnp.float32),
            next_obs=pack(info["final_observation"]),
        )
        runner = count_episodes(runner.replace(env_state=env_state, obs=obs, key=key), reward, done)
        return runner, transition

    def learn(runner: Runner, mask, enc, iteration):
        key, k_sample, k_dropout = jax.random.split(runner.key, 3)
        sample = buffer.sample(runner.buffer, k_sample)
        beta = priority_beta(cfg, iteration - first_update, num_updates)
        weights = importance_weights(sample.probabilities, beta)
        grads, td = jax.grad(loss_fn, has_aux=True)(
            runner.params, runner.target, mask, enc, sample.experience, weights, k_dropout
        )
        params, opt_state = masked_step(tx, grads, runner.opt_state, runner.params, mask)
        priorities = new_priorities(td, sample.probabilities, cfg.priority_eps)
        buffer_state = buffer.set_priorities(runner.buffer, sample.indices, priorities)
        return runner.replace(params=params, opt_state=opt_state, buffer=buffer_state, key=key)

    def evaluate_and_track(runner: Runner, mask, enc, slot):
        key, k_eval = jax.random.split(runner.key)
        p = apply_mask(runner.params, mask)
        ret = evaluate_greedy(k_eval, lambda o: q_values(p, enc, o), spec, cfg.eval_episodes, cfg.eps_eval)
        return track_evaluation(runner.replace(key=key), ret, slot)

    def train(keys: RunKeys, start_params, mask) -> TrainOutput:
        params = apply_mask(start_params, mask)
        enc = encoder_params(spec.encoder, keys.data)
        k_reset, k_run = jax.random.split(keys.train)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, E), env_params)
        example = Transition(
            obs=pack(obs[0]), action=jnp.zeros((), jnp.int32), reward=jnp.zeros(()), discount=jnp.zeros(()),
            next_obs=pack(obs[0]),
        )
        runner = Runner(
            target=params,
            opt_state=tx.init(params),
            buffer=buffer.init(example),
            env_state=env_state,
            obs=obs,
            key=k_run,
            **fresh_tracking(params, E, num_evals),
        )

        def body(runner: Runner, iteration):
            eps = epsilon(cfg, iteration * sizes["steps_per_iteration"])
            p = apply_mask(runner.params, mask)
            runner, traj = jax.lax.scan(lambda r, _: collect_step(r, (p, enc, eps)), runner, None, T)
            flat = jax.tree_util.tree_map(lambda x: x.reshape((T * E,) + x.shape[2:]), traj)
            runner = runner.replace(buffer=buffer.add(runner.buffer, flat))
            runner = jax.lax.cond(iteration >= first_update, lambda r: learn(r, mask, enc, iteration), lambda r: r, runner)
            updates_done = iteration - first_update + 1
            copy = jnp.logical_and(updates_done > 0, updates_done % cfg.target_update_every == 0)
            runner = jax.lax.cond(copy, lambda r: r.replace(target=r.params), lambda r: r, runner)
            if rewind_update > 0:  # static: without late rewinding nothing is copied on this hot path
                rewind = jax.tree_util.tree_map(
                    lambda new, old: jnp.where(iteration + 1 == rewind_update, new, old),
                    runner.params, runner.rewind_params,
                )
                runner = runner.replace(rewind_params=rewind)
            is_eval = jnp.logical_or((iteration + 1) % cfg.eval_every == 0, iteration + 1 == num_iterations)
            runner = jax.lax.cond(
                is_eval, lambda r: evaluate_and_track(r, mask, enc, iteration // cfg.eval_every), lambda r: r, runner
            )
            return runner, None

        runner, _ = jax.lax.scan(body, runner, jnp.arange(num_iterations))
        return rl_output(runner)

    return train
