"""Behavioural cloning by policy distillation, as one pure, jit-compiled function
`train(keys, start_params, mask)`, vmapped over the (seed, condition) runs of an IMP level.

The data are transitions of the expert's stochastic policy, rolled out from `keys.data` (derived
from the seed alone), so they never depend on the student, the condition or the level: every
student of a seed sees the same transitions. The student minimizes a distillation loss (by name,
see `distill_losses.py`) between teacher and student outputs with Adam, and is evaluated by rolling
out its own greedy policy; the best-evaluating student is kept, as in RL.
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.distill_losses import LOSSES
from ticketlab.agents.evaluate import evaluate_greedy
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.config import BCConfig
from ticketlab.networks.mlp import MLP, policy_logits
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


def schedule(cfg: BCConfig) -> dict:
    steps_per_env = cfg.total_steps // cfg.num_envs
    samples = steps_per_env * cfg.num_envs
    per_epoch = samples // cfg.batch_size
    grad_steps = cfg.epochs * per_epoch
    return {
        "steps_per_env": steps_per_env,
        "env_steps": samples,
        "batches_per_epoch": per_epoch,
        "grad_steps": grad_steps,
        "num_evals": -(-grad_steps // cfg.eval_every),
    }


def make_collect(cfg: BCConfig, spec, teacher: MLP, teacher_params):
    """`collect(data_key) -> (obs [N, ...], teacher_logits [N, A])`: the expert's own rollouts."""
    sizes = schedule(cfg)
    env, env_params, E = spec.env, spec.params, cfg.num_envs
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def collect(data_key):
        k_reset, k_roll = jax.random.split(data_key)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, E), env_params)

        def step(carry, key):
            obs, state = carry
            k_act, k_env = jax.random.split(key)
            logits = teacher.apply({"params": teacher_params}, obs)
            action = jax.random.categorical(k_act, logits)
            next_obs, state, _, _, _, _ = step_env(jax.random.split(k_env, E), state, action, env_params)
            return (next_obs, state), (obs, logits)

        _, (obs_seq, logit_seq) = jax.lax.scan(step, (obs, state), jax.random.split(k_roll, sizes["steps_per_env"]))
        flat = lambda x: x.reshape((-1,) + x.shape[2:])  # noqa: E731
        return flat(obs_seq), flat(logit_seq)

    return collect


@struct.dataclass
class StudentCarry:
    params: Any
    opt_state: Any
    key: jax.Array
    best_params: Any
    best_return: jax.Array
    eval_returns: jax.Array
    mean_losses: jax.Array
    loss_sum: jax.Array
    data_digest: jax.Array


def make_train(cfg: BCConfig, spec, student: MLP, teacher: MLP, teacher_params, weight_decay: float = 0.0):
    """Build `train(keys, start_params, mask) -> TrainOutput`; params are `{"actor": student}`."""
    sizes = schedule(cfg)
    per_epoch, grad_steps, num_evals = sizes["batches_per_epoch"], sizes["grad_steps"], sizes["num_evals"]
    collect = make_collect(cfg, spec, teacher, teacher_params)
    distill = LOSSES[cfg.loss]
    tx = adam(cfg.lr, weight_decay=weight_decay)

    def loss_fn(params, mask, obs, teacher_out):
        student_out = policy_logits(student, apply_mask(params, mask), obs)
        return distill(teacher_out, student_out).mean()

    def evaluate(c: StudentCarry, mask, slot) -> StudentCarry:
        key, k_eval = jax.random.split(c.key)
        p = apply_mask(c.params, mask)
        ret = evaluate_greedy(k_eval, lambda o: policy_logits(student, p, o), spec, cfg.eval_episodes)
        better = ret >= c.best_return  # ties go to the later checkpoint
        interval = jnp.minimum(cfg.eval_every, grad_steps - slot * cfg.eval_every)
        return c.replace(
            key=key,
            best_params=jax.tree_util.tree_map(lambda a, b: jnp.where(better, a, b), c.params, c.best_params),
            best_return=jnp.maximum(ret, c.best_return),
            eval_returns=c.eval_returns.at[slot].set(ret),
            mean_losses=c.mean_losses.at[slot].set(c.loss_sum / interval),
            loss_sum=jnp.zeros(()),
        )

    def train(keys: RunKeys, start_params, mask) -> TrainOutput:
        params = apply_mask(start_params, mask)
        obs, teacher_out = collect(keys.data)
        used = per_epoch * cfg.batch_size

        def epoch(c: StudentCarry, epoch_index):
            key, k_perm = jax.random.split(c.key)
            order = jax.random.permutation(k_perm, obs.shape[0])[:used].reshape(per_epoch, cfg.batch_size)

            def step(c: StudentCarry, xs):
                batch_index, idx = xs
                loss, grads = jax.value_and_grad(loss_fn)(c.params, mask, obs[idx], teacher_out[idx])
                new_params, opt_state = masked_step(tx, grads, c.opt_state, c.params, mask)
                digest = c.data_digest + jnp.sum(obs[idx]) + jnp.sum(teacher_out[idx])
                c = c.replace(params=new_params, opt_state=opt_state, loss_sum=c.loss_sum + loss, data_digest=digest)
                done = epoch_index * per_epoch + batch_index + 1
                is_eval = jnp.logical_or(done % cfg.eval_every == 0, done == grad_steps)
                # the step counters are the scans' unbatched inputs: under vmap this stays a branch
                c = jax.lax.cond(is_eval, lambda c: evaluate(c, mask, (done - 1) // cfg.eval_every), lambda c: c, c)
                return c, None

            c, _ = jax.lax.scan(step, c.replace(key=key), (jnp.arange(per_epoch), order))
            return c, None

        init = StudentCarry(
            params=params,
            opt_state=tx.init(params),
            key=keys.train,
            best_params=params,
            best_return=jnp.array(-jnp.inf),
            eval_returns=jnp.zeros(num_evals),
            mean_losses=jnp.zeros(num_evals),
            loss_sum=jnp.zeros(()),
            data_digest=jnp.zeros(()),
        )
        c, _ = jax.lax.scan(epoch, init, jnp.arange(cfg.epochs))
        return TrainOutput(
            best_params=c.best_params,
            best_return=c.best_return,
            final_params=c.params,
            final_return=c.eval_returns[-1],
            eval_returns=c.eval_returns,
            train_curve=c.mean_losses,
            rewind_params=params,
            data_digest=c.data_digest,
        )

    return train
