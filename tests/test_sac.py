"""Soft actor-critic: the tanh-squashed Gaussian's log-density, one update against a hand computation
of the Polyak step and the masks, learning Pendulum, and an IMP run through the engine."""

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import one_run

import ticketlab
from ticketlab.agents.output import RunKeys
from ticketlab.agents.sac import SAC, SquashedGaussian
from ticketlab.envs.registry import make_env
from ticketlab.presets import preset
from ticketlab.pruning.magnitude import random_global_mask
from ticketlab.pruning.masks import ones_mask, prunable_tree
from ticketlab.store.results import load_metrics


def test_the_squashed_gaussian_log_density_is_the_change_of_variables():
    head = SquashedGaussian((-2.0, 0.0), (2.0, 1.0))
    out = jnp.asarray([[0.3, -1.2, 0.4, -3.0]] * 2000)  # mean (0.3, -1.2), raw log-std (0.4, -3.0)
    keys = jax.random.split(jax.random.PRNGKey(0), 2000)
    action, log_prob = jax.vmap(head.sample)(keys, out)
    mean, log_std = (np.asarray(x, np.float64) for x in head.split(out[:1]))
    assert np.all(log_std >= -5.0) and np.all(log_std <= 2.0)
    a = np.asarray(action, np.float64)
    low, high = np.array([-2.0, 0.0]), np.array([2.0, 1.0])
    assert np.all((a >= low) & (a <= high))
    squashed = np.clip(2 * (a - low) / (high - low) - 1, -1 + 1e-7, 1 - 1e-7)
    u = np.arctanh(squashed)
    normal = -0.5 * ((u - mean) / np.exp(log_std)) ** 2 - log_std - 0.5 * np.log(2 * np.pi)
    want = np.sum(normal - np.log(1 - squashed**2), axis=-1)
    np.testing.assert_allclose(np.asarray(log_prob), want, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(head.greedy(out[0]), low + (np.tanh(mean[0]) + 1) / 2 * (high - low), rtol=1e-6)


def _sac(**fields):
    base = preset("pendulum-sac")
    return dataclasses.replace(base, sac=dataclasses.replace(base.sac, **fields))


def test_an_update_steps_the_targets_by_polyak_and_keeps_pruned_weights_zero():
    cfg = _sac(total_steps=600, learning_starts=300, batch_size=64, eval_every=300, eval_episodes=1)
    cfg = dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, scope="actor_critic"))
    sac = SAC(cfg, make_env("Pendulum-v1"))
    envs = one_run(sac)
    params = sac.init(jax.random.PRNGKey(0))
    prunable = prunable_tree(params, "actor_critic")
    mask = random_global_mask(jax.random.PRNGKey(1), params, prunable, 2000)
    runner = sac.first_runner(envs, RunKeys(jax.random.PRNGKey(2), jax.random.PRNGKey(3)), params, mask)
    for _ in range(70):  # fill the buffer past a batch
        runner, transition = sac.collect(envs, runner, mask, None, True)
        runner = runner.replace(buffer=sac.buffer.add(runner.buffer, transition))
    after = jax.jit(lambda r: sac.update(r, mask, None))(runner)
    critic = jax.tree_util.tree_map(lambda w, m: jnp.where(m, w, 0.0), after.params["critic"], mask["critic"])
    want = jax.tree_util.tree_map(lambda new, old: cfg.sac.tau * new + (1 - cfg.sac.tau) * old, critic, runner.target)
    for a, b in zip(jax.tree_util.tree_leaves(after.target), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for tree, m_tree in ((after.params, mask), (after.target, mask["critic"])):
        for w, m in zip(jax.tree_util.tree_leaves(tree), jax.tree_util.tree_leaves(m_tree)):
            assert np.all(np.asarray(w)[~np.asarray(m)] == 0.0)
    moved = [
        np.any(np.asarray(a) != np.asarray(b))
        for a, b in zip(jax.tree_util.tree_leaves(after.params), jax.tree_util.tree_leaves(runner.params))
    ]
    assert all(moved) and float(after.log_alpha) != float(runner.log_alpha)


@pytest.mark.slow  # end to end, about 25 s: the update, its targets and the masks have fast tests above
def test_a_sac_imp_run_through_the_engine(tmp_path):
    cfg = dataclasses.replace(
        _sac(total_steps=600, learning_starts=300, batch_size=64, eval_every=300, eval_episodes=1),
        seeds=1,
        levels=2,
        out=str(tmp_path / "runs"),
    )
    run = ticketlab.run(cfg)
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *cfg.imp.conditions}
    ticket = [r for r in rows if r["condition"] == "mask_weights"][0]
    assert set(ticket["layer_density"]) == {f"actor/dense_{i}/kernel" for i in range(3)}  # actor pruned alone
    assert abs(ticket["density"] - 0.8) < 1e-3 and ticket["input_layer"]["actor"]["layer"] == "dense_0"


@pytest.mark.slow  # about a minute of updates on one core
def test_sac_learns_pendulum_far_past_random():
    cfg = _sac(total_steps=8_000, learning_starts=1_000, eval_every=1_000, eval_episodes=4)
    sac = SAC(cfg, make_env("Pendulum-v1"))
    params = sac.init(jax.random.PRNGKey(0))
    out = jax.jit(partial(sac.stages.train, one_run(sac)))(
        RunKeys(jax.random.PRNGKey(1), jax.random.PRNGKey(2)), params, ones_mask(params)
    )
    returns = np.asarray(out.eval_returns)
    assert returns[0] < -900 and float(out.best_return) > -400, returns  # uniformly random torques score ~-1230
