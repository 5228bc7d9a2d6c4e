"""Pruned weights stay exactly zero through many optimizer steps, and the mask is used in the
forward pass: changing a pruned weight's value cannot change what the agent does."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from conftest import one_run

from ticketlab.agents.output import RunKeys
from ticketlab.agents.ppo import PPO
from ticketlab.core.config import ExperimentConfig, PPOConfig
from ticketlab.envs.registry import make_env
from ticketlab.pruning.magnitude import random_global_mask
from ticketlab.pruning.masks import prunable_tree


def keys(i):
    return RunKeys(jax.random.PRNGKey(i), jax.random.PRNGKey(100 + i))


def setup(steps=4096):
    ppo = PPO(
        ExperimentConfig(ppo=PPOConfig(total_steps=steps, eval_every=8, eval_episodes=2)), make_env("CartPole-v1")
    )
    params = ppo.init(jax.random.PRNGKey(0))
    mask = random_global_mask(jax.random.PRNGKey(1), params, prunable_tree(params, "actor_critic"), 1000)
    return jax.jit(partial(ppo.stages.train, one_run(ppo))), params, mask


def test_pruned_weights_exactly_zero_after_many_steps():
    train, params, mask = setup()
    out = train(keys(2), params, mask)  # 32 updates x 16 minibatch steps = 512 Adam steps
    for tree in (out.final_params, out.best_params):
        for p, m, p0 in zip(
            jax.tree_util.tree_leaves(tree), jax.tree_util.tree_leaves(mask), jax.tree_util.tree_leaves(params)
        ):
            p, m = np.asarray(p), np.asarray(m)
            assert np.all(p[~m] == 0.0)
        moved = [
            np.any(np.asarray(p)[np.asarray(m)] != np.asarray(q)[np.asarray(m)])
            for p, q, m in zip(
                jax.tree_util.tree_leaves(out.final_params),
                jax.tree_util.tree_leaves(params),
                jax.tree_util.tree_leaves(mask),
            )
        ]
    assert all(moved)  # surviving weights did train


def test_forward_pass_applies_mask():
    train, params, mask = setup(steps=512)
    garbage = jax.tree_util.tree_map(lambda p, m: jnp.where(m, p, 123.0), params, mask)
    a = train(keys(3), params, mask)
    b = train(keys(3), garbage, mask)
    np.testing.assert_array_equal(np.asarray(a.eval_returns), np.asarray(b.eval_returns))
    for x, y in zip(jax.tree_util.tree_leaves(a.final_params), jax.tree_util.tree_leaves(b.final_params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
