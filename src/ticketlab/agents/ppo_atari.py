"""PPO on ALE games (envs/atari.py) as one compiled program per block of runs: rollouts through
ale-py's XLA interface, GAE, the clipped-surrogate update and evaluation games all inside one
`lax.scan` over updates, under one `jax.jit`.

ale-py's vector env is one stateful C++ object stepped by an FFI call, which cannot sit under
`jax.vmap`. So the program is written over a block of R runs explicitly: every run's acting, loss
and update are `PPO`'s own functions, vmapped over runs, and the environment steps all R x E games
in one call (run r owns games r*E .. r*E+E-1, seeded from r's own key, so a run's numbers do not
depend on the block it trains in). Evaluation plays whole games (at most env.atari.max-frames) in a
second vector env of R x eval-episodes games, without episodic life.

`PixelPPO` is `PPO` on uint8 frames: the networks see frame / 255, the critic evaluates each
rollout observation once (with next-step autoreset, step t's final observation is step t+1's
observation), and the loss leaves out the vector env's autoreset steps (`Transition.valid`).
"""
from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.base import Agent
from ticketlab.agents.evaluate import episode_returns, policy_actor
from ticketlab.agents.gae import gae
from ticketlab.agents.loop import Tracking, capture_rewind, fresh_tracking, record, track_evaluation, train_output
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.agents.ppo import PPO, Transition
from ticketlab.envs.atari import reset_steps, vector_env
from ticketlab.pruning.masks import apply_mask


@struct.dataclass
class PixelTransition(Transition):
    valid: jax.Array
    """False on the vector env's autoreset steps (the action was ignored): left out of the loss."""


@struct.dataclass
class Games:
    """What the program carries of a block's games between steps ([R, E] unless said)."""

    handle: jax.Array
    """The vector env's handle ([8] bytes; threading it orders the FFI calls)."""
    obs: jax.Array
    frames: jax.Array
    """Each game's episode frame count after its last step (an autoreset starts it again)."""
    score: jax.Array
    """The game score of each running game, unclipped (the training curve)."""


@struct.dataclass
class Block:
    params: Any
    opt_state: Any
    key: jax.Array
    tracking: Tracking


class PixelPPO(PPO):
    """PPO whose observations are uint8 frames and whose rollouts carry `valid` steps."""

    def policy_out(self, params, obs):
        return super().policy_out(params, obs.astype(jnp.float32) / 255.0)

    def value(self, params, obs):
        return super().value(params, obs.astype(jnp.float32) / 255.0)

    def advantages(self, params, mask, traj: Transition, final_obs, last_obs):
        """GAE of a time-major rollout [T, E]; `final_obs` is unused: under next-step autoreset a
        truncated step's final observation is the next step's observation (or `last_obs`)."""
        p = apply_mask(params, mask)
        T, E = traj.reward.shape
        obs = jnp.concatenate([traj.obs.reshape((T * E,) + traj.obs.shape[2:]), last_obs])
        values = self.value(p, obs).reshape(T + 1, E)
        rewards = traj.reward + self.cfg.gamma * values[1:] * traj.bootstrap
        return gae(rewards, values[:-1], traj.done, values[-1], self.cfg.gamma, self.cfg.gae_lambda)


def _runs(fn, *args):
    return jax.vmap(fn)(*args)


class AtariProgram:
    """`train_batch(stacked RunKeys, stacked starts, stacked masks) -> stacked TrainOutput`."""

    def __init__(self, ppo: PixelPPO):
        self.ppo = ppo
        spec = ppo.spec
        self.game, self.settings, self.sticky = spec.env, spec.params, spec.sticky_actions
        self.clip_rewards = self.settings.reward_clip
        self.max_eval_steps = spec.max_episode_steps
        self._compiled: dict[int, Any] = {}

    def envs(self, runs: int):
        cfg = self.ppo.cfg
        return (vector_env(self.game, self.settings, self.sticky, runs * cfg.num_envs, training=True),
                vector_env(self.game, self.settings, self.sticky, runs * cfg.eval_episodes, training=False))

    def train_batch(self, keys: RunKeys, starts, masks) -> TrainOutput:
        runs = int(keys.train.shape[0])
        train_env, eval_env = self.envs(runs)
        if runs not in self._compiled:
            self._compiled[runs] = jax.jit(partial(self.train, train_env, eval_env, runs))
        out, _ = self._compiled[runs](train_env.handle, eval_env.handle, keys, starts, masks)
        return out

    def train(self, train_env, eval_env, runs: int, train_handle, eval_handle, keys: RunKeys, starts, masks):
        """The whole training of a block of `runs` runs (pure but for the games' FFI calls)."""
        ppo, cadence = self.ppo, self.ppo.sizes.cadence
        E = ppo.cfg.num_envs
        params = _runs(apply_mask, starts, masks)
        split = _runs(jax.random.split, keys.train)
        k_reset, key = split[:, 0], split[:, 1]
        handle, (obs, info) = train_env.reset(train_handle, _seeds(k_reset, E))
        games = Games(handle=handle, obs=_by_run(obs, runs), frames=_by_run(info["episode_frame_number"], runs),
                      score=jnp.zeros((runs, E)))
        block = Block(params=params, opt_state=_runs(ppo.tx.init, params), key=key,
                      tracking=_runs(lambda p: fresh_tracking(p, cadence.num_evals), params))
        learn = jax.vmap(ppo.learn, in_axes=(0,) * 7 + (None,))  # the update index is shared

        def update(carry, index):
            block, games, eval_handle = carry
            block, games, traj, (total, count) = self.rollout(train_env, block, games, masks, runs)
            tracking = _runs(record, block.tracking, total, count)
            params, opt_state, key = learn(block.params, block.opt_state, block.key, masks, traj, None, games.obs,
                                           index)
            tracking = capture_rewind(tracking, params, index, cadence)
            block = Block(params=params, opt_state=opt_state, key=key, tracking=tracking)

            def run_evaluation(operand):
                block, eval_handle = operand
                split = _runs(jax.random.split, block.key)
                eval_handle, returns = self.evaluate(eval_env, eval_handle, split[:, 1], block.params, masks, runs)
                slot = jnp.full((runs,), index // cadence.eval_every)
                tracking = _runs(track_evaluation, block.tracking, block.params, returns, slot)
                return block.replace(key=split[:, 0], tracking=tracking), eval_handle

            block, eval_handle = jax.lax.cond(cadence.evaluates_after(index), run_evaluation, lambda o: o,
                                              (block, eval_handle))
            return (block, games, eval_handle), None

        (block, games, eval_handle), _ = jax.lax.scan(update, (block, games, eval_handle),
                                                      jnp.arange(ppo.sizes.num_updates))
        return _runs(lambda p, t: train_output(Block(p, None, None, t)), block.params, block.tracking), (
            games.handle, eval_handle)

    def rollout(self, env, block: Block, games: Games, masks, runs: int):
        """`rollout_len` steps of every game of the block: (block, games, PixelTransition [R, T, E],
        (sum, count) of the game scores that ended, per run)."""
        ppo, E = self.ppo, self.ppo.cfg.num_envs
        p = _runs(apply_mask, block.params, masks)

        def step(carry, _):
            games, key, total, count = carry
            split = _runs(lambda k: jax.random.split(k, 3), key)  # the compiled rollout's (key, act, env)
            key, k_act = split[:, 0], split[:, 1]
            action, log_prob = jax.vmap(ppo.act_masked)(p, k_act, games.obs)
            handle, (obs, reward, terminated, truncated, info) = env.step(
                games.handle, ppo.head.to_env(action).reshape(runs * E).astype(jnp.int32))
            frames = _by_run(info["episode_frame_number"], runs)
            restart = reset_steps(frames, games.frames)  # this step only reset a game that had ended
            reward, terminated, truncated = (_by_run(x, runs) for x in (reward, terminated, truncated))
            score = reward.astype(jnp.float32)
            total = total + jnp.sum(jnp.where(restart, games.score, 0.0), axis=1)
            count = count + jnp.sum(restart, axis=1)
            learnt = jnp.sign(score) if self.clip_rewards else score
            transition = PixelTransition(obs=games.obs, action=action, log_prob=log_prob, reward=learnt,
                                         done=terminated | truncated, bootstrap=truncated & ~terminated,
                                         valid=~restart)
            games = Games(handle=handle, obs=_by_run(obs, runs), frames=frames,
                          score=jnp.where(restart, 0.0, games.score) + score)
            return (games, key, total, count), transition

        init = (games, block.key, jnp.zeros(runs), jnp.zeros(runs, jnp.int32))
        (games, key, total, count), traj = jax.lax.scan(step, init, None, ppo.cfg.rollout_len)
        traj = jax.tree_util.tree_map(lambda x: jnp.swapaxes(x, 0, 1), traj)  # [T, R, E] -> [R, T, E]
        return block.replace(key=key), games, traj, (total, count)

    def evaluate(self, env, handle, keys, params, masks, runs: int):
        """Each run's mean game score over `eval_episodes` whole games of its policy (the mode or a
        draw, eval.policy), each game seeded from the run's key; at most `max_episode_steps` steps."""
        ppo, n = self.ppo, self.ppo.cfg.eval_episodes
        split = _runs(jax.random.split, keys)
        handle, (obs, _) = env.reset(handle, _seeds(split[:, 0], n))
        k_act = split[:, 1]
        p = _runs(apply_mask, params, masks)

        def act(p_run, step_key, obs_run):
            return policy_actor(ppo.head, lambda o: ppo.policy_out(p_run, o), ppo.eval_policy)(step_key, obs_run)[0]

        def step(t, env_carry):
            handle, obs = env_carry
            step_keys = _runs(lambda k: jax.random.fold_in(k, t), k_act)
            action = jax.vmap(act)(p, step_keys, obs)
            handle, (obs, reward, terminated, truncated, _) = env.step(handle, action.reshape(runs * n).astype(jnp.int32))
            return (handle, _by_run(obs, runs)), _by_run(reward, runs), _by_run(terminated | truncated, runs)

        (handle, _), total = episode_returns(step, (handle, _by_run(obs, runs)), self.max_eval_steps, (runs, n))
        return handle, total.mean(axis=1)


def _seeds(keys, per_run: int):
    """`per_run` ALE seeds from each run's key, in run order ([R * per_run] int32)."""
    return _runs(lambda k: jax.random.randint(k, (per_run,), 0, 2**31 - 1), keys).reshape(-1).astype(jnp.int32)


def _by_run(x, runs: int):
    return x.reshape((runs, -1) + x.shape[1:])


def build(cfg, spec, expert=None) -> Agent:
    ppo = PixelPPO(cfg, spec)
    return Agent(init=ppo.init, train=None, env_steps=ppo.sizes.env_steps, rewind_update=ppo.sizes.cadence.rewind_step,
                 batch_loss=None, program=ppo)


def make_ale_train(agent: Agent):
    """`train_batch(stacked RunKeys, stacked starts, stacked masks)` of a PPO agent on an ALE game."""
    return AtariProgram(agent.program).train_batch
