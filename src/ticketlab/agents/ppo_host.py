"""PPO on host-side environments (any Gymnasium id): the environments of every run of a level step
in Python (one Gymnasium vector env per run, seeded from the run's own key), while acting and
learning are the jitted, vmapped `PPO.act` and `PPO.learn` of the compiled path. So both paths
share one implementation of the loss and the update, and the same `after_step` bookkeeping:
tracking, evaluation cadence and rewind capture (`loop.py`).

Evaluation episodes also run on the host, with the run's own policy (mode or sample).
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from ticketlab.agents.base import Agent
from ticketlab.agents.evaluate import policy_actor
from ticketlab.agents.host_runs import HostEvaluator, host_seed
from ticketlab.agents.loop import Tracking, fresh_tracking, record, track_evaluation, train_output
from ticketlab.agents.output import RunKeys
from ticketlab.agents.ppo import PPO, Transition
from ticketlab.envs.host import HostVectorEnv
from ticketlab.pruning.masks import apply_mask


@struct.dataclass
class HostCarry:
    params: Any
    tracking: Tracking


class HostPPO:
    """The compiled pieces of PPO, batched over runs, around host-side environments."""

    def __init__(self, ppo: PPO):
        self.ppo = ppo
        self.env_id = ppo.spec.host_id
        vmap = jax.vmap
        self.split2 = jax.jit(vmap(lambda k: tuple(jax.random.split(k))))

        def act(key, params, mask, obs):
            key, k_act, _ = jax.random.split(key, 3)  # the compiled rollout's split: (key, act, env)
            action, log_prob = ppo.act(params, mask, k_act, obs)
            return key, action, log_prob, ppo.head.to_env(action)

        self.act = jax.jit(vmap(act))
        self.learn = jax.jit(vmap(ppo.learn, in_axes=(0,) * 7 + (None,)))  # the update index is shared
        self.record = jax.jit(vmap(record))
        self.track = jax.jit(vmap(track_evaluation))
        self.start = jax.jit(vmap(lambda p, m: apply_mask(p, m)))
        self.opt_init = jax.jit(vmap(ppo.tx.init))
        self.fresh = jax.jit(vmap(lambda p: fresh_tracking(p, ppo.sizes.cadence.num_evals)))
        self.output = jax.jit(vmap(lambda p, t: train_output(HostCarry(p, t))))

        def act_greedy_or_sampled(p, key, obs):
            action, _ = policy_actor(ppo.head, lambda o: ppo.policy_out(p, o), ppo.eval_policy)(key, obs)
            return action

        self.evaluate = HostEvaluator(self.env_id, act_greedy_or_sampled, ppo.cfg.eval_episodes)

    def train_batch(self, keys: RunKeys, starts, masks):
        ppo, cfg, cadence = self.ppo, self.ppo.cfg, self.ppo.sizes.cadence
        runs = keys.train.shape[0]
        params = self.start(starts, masks)
        opt_state = self.opt_init(params)
        k_reset, key = self.split2(keys.train)
        envs = [HostVectorEnv(self.env_id, cfg.num_envs, host_seed(k)) for k in k_reset]
        try:
            obs = np.stack([env.reset() for env in envs])
            tracking = self.fresh(params)
            episode_return = np.zeros((runs, cfg.num_envs), np.float32)
            for update in range(ppo.sizes.num_updates):
                steps, finals = [], []
                finished_sum, finished_count = np.zeros(runs, np.float32), np.zeros(runs, np.int32)
                for _ in range(cfg.rollout_len):
                    key, action, log_prob, env_action = self.act(key, params, masks, obs)
                    results = [env.step(a) for env, a in zip(envs, np.asarray(env_action))]
                    next_obs, reward, terminated, truncated, final_obs = (np.stack(x) for x in zip(*results))
                    done = terminated | truncated
                    steps.append((obs, action, log_prob, reward, done, truncated & ~terminated))
                    finals.append(final_obs)
                    episode_return += reward  # the training curve, as `count_episodes` keeps it
                    finished_sum += np.where(done, episode_return, 0.0).sum(axis=1)
                    finished_count += done.sum(axis=1)
                    episode_return[done] = 0.0
                    obs = next_obs
                traj = Transition(*(jnp.stack(x, axis=1) for x in zip(*steps)))  # [R, T, E, ...]
                final_obs = jnp.asarray(np.stack(finals, axis=1))
                tracking = self.record(tracking, jnp.asarray(finished_sum), jnp.asarray(finished_count))
                params, opt_state, key = self.learn(params, opt_state, key, masks, traj, final_obs, jnp.asarray(obs),
                                                    update)
                if cadence.rewind_step and cadence.captures_after(update):
                    tracking = tracking.replace(rewind_params=params)
                if cadence.evaluates_after(update):
                    key, k_eval = self.split2(key)
                    ret = jnp.asarray(self.evaluate(params, masks, k_eval))
                    slot = jnp.full((runs,), update // cadence.eval_every)
                    tracking = self.track(tracking, params, ret, slot)
            return self.output(params, tracking)
        finally:
            for env in envs:
                env.close()


def make_host_train(agent: Agent):
    """`train_batch(stacked RunKeys, stacked starts, stacked masks)` of a PPO agent on a host env."""
    return HostPPO(agent.program).train_batch
