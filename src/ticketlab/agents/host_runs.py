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
            k_seed, k_act = jax.random.split(key)
            steps = iter(range(1 << 30))
            act = lambda obs: np.asarray(self.policy(p, m, jax.random.fold_in(k_act, next(steps)), jnp.asarray(obs)))  # noqa: E731
            returns.append(evaluate_host(self.env_id, act, self.episodes, host_seed(k_seed)).mean())
        return np.asarray(returns, np.float32)
