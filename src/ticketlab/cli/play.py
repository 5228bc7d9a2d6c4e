"""`ticketlab play`: watch episodes of a random agent or of a trained one from a run's store, and
render MazeGrid episodes to GIF (or the first frame to PNG)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.agents.heads import epsilon_greedy
from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.core.errors import ConfigError
from ticketlab.envs.backends import BACKENDS
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.encodings import encode, encoder_params
from ticketlab.imp.keys import DATA, run_key
from ticketlab.pruning.conditions import DENSE
from ticketlab.pruning.masks import apply_mask
from ticketlab.store import files, paths
from ticketlab.store.rundir import load_run_config


@dataclass
class Episode:
    ret: float
    steps: int
    coins: int
    poisons: int
    frames: list
    """The observation before each step and the last (terminal or truncated) one."""


def random_policy(spec: EnvSpec):
    if spec.discrete:
        return lambda key, obs: jax.random.randint(key, (), 0, spec.num_actions)
    low, high = jnp.asarray(spec.action_low), jnp.asarray(spec.action_high)
    return lambda key, obs: jax.random.uniform(key, low.shape, minval=low, maxval=high)


def trained_policy(run: Path, level: int, seed: int, condition: str, epsilon: float | None = None):
    """(config, spec, policy) of the best params of one (level, seed, condition) in a run's store."""
    cfg = load_run_config(run)
    condition = DENSE if level == 0 else condition
    best = paths.tree_file(run, level, seed, condition, "best")
    if not best.exists():
        raise ConfigError(
            "level/seed/condition",
            f"{run} has no trained params for level {level}, seed {seed}, {condition} ({best.name} missing)",
        )
    spec = run_spec(cfg)
    if spec.env is None:
        raise ConfigError("run", f"{run} learnt the {spec.id} dataset (algo {cfg.algo}); play plays environments only")
    check_playable(spec)
    acting = AGENTS.get(cfg.algo).acting(cfg, spec)
    params = apply_mask(files.load_tree(best), files.load_tree(paths.tree_file(run, level, seed, condition, "mask")))
    enc = encoder_params(spec.encoder, run_key(seed, DENSE, 0, DATA))
    eps = acting.head.eval_epsilon if epsilon is None else epsilon

    def policy(key, obs):
        out = acting.network.apply({"params": params[acting.module]}, encode(spec.encoder, enc, obs[None]))
        if not spec.discrete or eps == 0.0:
            return jax.tree_util.tree_map(lambda x: x[0], acting.head.greedy(out))
        k_explore, k_random = jax.random.split(key)
        return epsilon_greedy(k_explore, k_random, out[0], eps, spec.num_actions)

    return cfg, spec, policy


def check_playable(spec: EnvSpec) -> None:
    """`play` steps one episode at a time as a pure function: environments whose backend steps one run."""
    if not BACKENDS.get(spec.backend).per_run:
        raise ConfigError(
            "play",
            f"{spec.id} steps on the {spec.backend} backend; play runs environments that step "
            f"inside the program (gymnax) only",
        )


def play_episode(key, spec: EnvSpec, policy) -> Episode:
    """One episode, run to termination or truncation (at most max_episode_steps)."""
    env, params = spec.env, spec.params
    k_reset, k_run = jax.random.split(key)
    obs, state = env.reset(k_reset, params)

    def step(carry, k):
        obs, state, alive = carry
        k_act, k_env = jax.random.split(k)
        action = policy(k_act, obs)
        next_obs, state, reward, terminated, truncated, info = env.step(k_env, state, action, params)
        record = (info["final_observation"], reward * alive, alive, info.get("coins_collected", jnp.zeros(())) * alive)
        alive = alive * (1.0 - jnp.logical_or(terminated, truncated))
        return (next_obs, state, alive), record

    _, (finals, rewards, alive, coins) = jax.lax.scan(
        jax.jit(step), (obs, state, jnp.ones(())), jax.random.split(k_run, spec.max_episode_steps)
    )
    steps = int(np.asarray(alive).sum())
    rewards, coins = np.asarray(rewards), np.asarray(coins)
    frames = [np.asarray(obs)] + [np.asarray(finals[i]) for i in range(steps)]
    return Episode(
        ret=float(rewards.sum()), steps=steps, coins=int(coins.sum()), poisons=int((rewards < 0).sum()), frames=frames
    )
