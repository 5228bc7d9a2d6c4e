"""The ale backend: ALE games (envs/atari.py) stepped through ale-py's vector environment and its
XLA interface, so a training program on pixels stays one compiled program.

The vector env is one stateful C++ object stepped by an FFI call, which cannot sit under `jax.vmap`:
a program trains a whole block of R runs, and one call steps all R x E games (run r owns games
r*E .. r*E+E-1, seeded from r's own key, so a run's numbers do not depend on its block). Evaluation
plays whole games (at most env.atari.max-frames) in a second vector env of R x eval-episodes games,
without episodic life. The environments' handles are the program's inputs (`inputs`, `bound`) and
are threaded through its state, which orders the FFI calls; the process keeps its vector envs
(envs/atari.py closes them at exit).

The vector env resets a game on the step after its episode ended (its action is ignored, its
reward 0): those steps are `EnvStep.valid` False, and the step's observation after an ended episode
is the next step's (`final_obs` None). Rewards are learnt clipped to their sign when
`reward_clip`; the training curve counts whole games' unclipped scores.
"""

from __future__ import annotations

import copy
import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.envs.atari import reset_steps, vector_env
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.stepping import EnvStep, ProgramEnvs, episode_returns, vmap_runs


class Games(struct.PyTreeNode):
    """What a program carries of a block's games between steps ([R, E] unless said)."""

    handle: jax.Array
    """The training vector env's handle ([8] bytes)."""
    frames: jax.Array
    """Each game's episode frame count after its last step (an autoreset starts it again)."""
    score: jax.Array
    """The game score of each running game, unclipped (the training curve)."""
    eval_handle: jax.Array
    """The evaluation vector env's handle."""


def _seeds(keys, per_run: int):
    """`per_run` ALE seeds from each run's key, in run order ([R * per_run] int32)."""
    return jax.vmap(lambda k: jax.random.randint(k, (per_run,), 0, 2**31 - 1))(keys).reshape(-1).astype(jnp.int32)


class AtariEnvs(ProgramEnvs):
    """The ALE games of a block of `runs` runs (`num_envs` each) and their evaluation games."""

    runs = staticmethod(vmap_runs)

    def __init__(self, spec: EnvSpec, num_envs: int, eval_episodes: int, runs: int):
        self.spec, self.num_envs, self.eval_episodes, self.num_runs = spec, int(num_envs), int(eval_episodes), int(runs)
        game, settings, sticky = spec.env, spec.params, spec.sticky_actions
        self.clip_rewards = settings.reward_clip
        self.train_env = vector_env(game, settings, sticky, runs * num_envs, training=True)
        self.eval_env = vector_env(game, settings, sticky, runs * eval_episodes, training=False)
        self.handles = (self.train_env.handle, self.eval_env.handle)

    def inputs(self):
        """What the compiled program takes as arguments: the vector envs' handles."""
        return self.handles

    def bound(self, handles) -> AtariEnvs:
        """These environments, starting from the program's (traced) `handles`."""
        bound = copy.copy(self)
        bound.handles = handles
        return bound

    def evaluation_state(self) -> Games:
        zeros = jnp.zeros((self.num_runs, self.num_envs))
        return Games(handle=self.handles[0], frames=zeros.astype(jnp.int32), score=zeros, eval_handle=self.handles[1])

    def by_run(self, tree):
        return jax.tree_util.tree_map(lambda x: jnp.swapaxes(x, 0, 1), tree)

    def _by_run(self, x):
        return x.reshape((self.num_runs, -1) + x.shape[1:])

    def reset(self, key):
        handle, (obs, info) = self.train_env.reset(self.handles[0], _seeds(key, self.num_envs))
        games = Games(
            handle=handle,
            frames=self._by_run(info["episode_frame_number"]),
            score=jnp.zeros((self.num_runs, self.num_envs)),
            eval_handle=self.handles[1],
        )
        return games, self._by_run(obs)

    def step(self, games: Games, key, action):
        handle, (obs, reward, terminated, truncated, info) = self.train_env.step(
            games.handle, action.reshape(self.num_runs * self.num_envs).astype(jnp.int32)
        )
        frames = self._by_run(info["episode_frame_number"])
        restart = reset_steps(frames, games.frames)  # this step only reset a game that had ended
        reward, terminated, truncated = (self._by_run(x) for x in (reward, terminated, truncated))
        if self.spec.time_limit == "terminate":  # env.atari.max-frames ends an episode without bootstrap
            terminated = terminated | truncated
        score = reward.astype(jnp.float32)
        total = jnp.sum(jnp.where(restart, games.score, 0.0), axis=1)
        count = jnp.sum(restart, axis=1)
        games = games.replace(handle=handle, frames=frames, score=jnp.where(restart, 0.0, games.score) + score)
        return games, EnvStep(
            obs=self._by_run(obs),
            reward=jnp.sign(score) if self.clip_rewards else score,
            terminated=terminated,
            truncated=truncated,
            final_obs=None,
            valid=~restart,
            finished_total=total,
            finished_count=count,
        )

    def evaluate(self, games: Games, key, policy, params):
        """Each run's mean game score over `eval_episodes` whole games, each seeded from the run's
        key; at most `max_episode_steps` steps."""
        n = self.eval_episodes
        k_seed, k_act = jax.vmap(lambda k: tuple(jax.random.split(k)))(key)
        handle, (obs, _) = self.eval_env.reset(games.eval_handle, _seeds(k_seed, n))

        def step(t, env_carry):
            handle, obs = env_carry
            keys = jax.vmap(lambda k: jax.random.fold_in(k, t))(k_act)
            action, _ = jax.vmap(policy)(params, keys, obs)
            handle, (obs, reward, terminated, truncated, _) = self.eval_env.step(
                handle, action.reshape(self.num_runs * n).astype(jnp.int32)
            )
            return (handle, self._by_run(obs)), self._by_run(reward), self._by_run(terminated | truncated)

        (handle, _), total = episode_returns(
            step, (handle, self._by_run(obs)), self.spec.max_episode_steps, (self.num_runs, n)
        )
        return games.replace(eval_handle=handle), total.mean(axis=1)


def configure(spec: EnvSpec, env_cfg) -> EnvSpec:
    """ALE games repeat actions as env.sticky-actions says (the family builds them so); their time
    limit is env.atari.max-frames, a truncation, or a termination (env.time-limit terminate: rlpyt's
    AtariEnv ends the episode at its horizon with done, which its PPO does not bootstrap)."""
    return dataclasses.replace(spec, time_limit=env_cfg.time_limit)
