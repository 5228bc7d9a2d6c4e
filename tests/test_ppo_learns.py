"""A short PPO run learns Cart-Pole, and vmapping over runs gives each run's own result."""

from functools import partial

import jax
import numpy as np
from conftest import one_run

from ticketlab.agents.output import RunKeys
from ticketlab.agents.ppo import PPO
from ticketlab.core.config import ExperimentConfig, PPOConfig
from ticketlab.envs.registry import make_env
from ticketlab.pruning.masks import ones_mask


def test_short_ppo_run_learns_cartpole():
    ppo = PPO(
        ExperimentConfig(ppo=PPOConfig(total_steps=25_600, eval_every=25, eval_episodes=4)), make_env("CartPole-v1")
    )
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    params = jax.vmap(ppo.init)(keys)
    out = jax.jit(jax.vmap(partial(ppo.stages.train, one_run(ppo))))(RunKeys(keys, keys), params, ones_mask(params))
    first, best = np.asarray(out.eval_returns)[:, 0], np.asarray(out.best_return)
    assert best.mean() >= 300, best  # untrained policies score ~10-60
    assert (best > first).all()
