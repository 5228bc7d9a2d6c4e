"""What the host-side training paths (PPO, behavioural cloning) share: Gymnasium seeds drawn from
a run's own key, and evaluation episodes of each run's masked policy on the host."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.envs.host import evaluate_host
from ticketlab.pruning.masks import apply_mask


def host_seed(key) -> int:
    """A Gymnasium seed drawn from a run's own key (identity, not batch position)."""
    return int(jax.random.randint(key, (), 0, 2**31 - 1))


def host_returns(env_id: str, policy: Callable, key, episodes: int) -> np.ndarray:
    """The return of each of `episodes` host episodes of `policy(key, obs) -> env action` (jitted):
    the environments are seeded from one half of `key`, step t's action key is the other half
    folded with t."""
    k_seed, k_act = jax.random.split(key)
    steps = iter(range(1 << 30))
    act = lambda obs: np.asarray(policy(jax.random.fold_in(k_act, next(steps)), jnp.asarray(obs)))  # noqa: E731
    return evaluate_host(env_id, act, episodes, host_seed(k_seed))


class HostEvaluator:
    """`evaluator(params, masks, keys) -> [R]`: the mean return of `episodes` host episodes of each
    run's policy, each run seeded from its own key. `act(masked params, key, obs) -> env action`."""

    def __init__(self, env_id: str, act: Callable, episodes: int):
        self.env_id, self.episodes = env_id, int(episodes)
        self.policy = jax.jit(lambda params, mask, key, obs: act(apply_mask(params, mask), key, obs))

    def __call__(self, params, masks, keys) -> np.ndarray:
        returns = []
        for r, key in enumerate(keys):
            p = jax.tree_util.tree_map(lambda x: x[r], params)
            m = jax.tree_util.tree_map(lambda x: x[r], masks)
            policy = lambda k, obs: self.policy(p, m, k, obs)  # noqa: E731
            returns.append(host_returns(self.env_id, policy, key, self.episodes).mean())
        return np.asarray(returns, np.float32)
