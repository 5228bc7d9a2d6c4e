"""Continuous-action PPO: the Gaussian head, clipping at the environment only, an unpruned trained
log-std, learning Pendulum-v1, and IMP with every condition on it."""

import dataclasses
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import one_run

from ticketlab.agents.heads import Gaussian
from ticketlab.agents.output import RunKeys
from ticketlab.agents.ppo import PPO
from ticketlab.core.config import EvalConfig
from ticketlab.envs.gymnax_envs import evaluate_episodes
from ticketlab.envs.registry import make_env
from ticketlab.experiments.experiment import run
from ticketlab.presets import preset
from ticketlab.pruning.conditions import DENSE
from ticketlab.pruning.magnitude import count_after_levels
from ticketlab.pruning.masks import leaf_paths, ones_mask, prunable_tree
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit", "mask_reinit")


def diag_gaussian_log_density(x, mean, log_std):
    """log N(x; mean, diag(exp(log_std))^2), written out by hand."""
    z = (x - mean) / np.exp(log_std)
    return np.sum(-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi), axis=-1)


def with_ppo(cfg, **changes):
    return dataclasses.replace(cfg, ppo=dataclasses.replace(cfg.ppo, **changes))


# (a) The Gaussian head.


def test_gaussian_head_log_prob_mode_and_clip():
    head = Gaussian(low=(-2.0, -1.0), high=(2.0, 0.5))
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(5, 2)).astype(np.float32)
    log_std = np.broadcast_to(np.array([-0.7, 0.4], np.float32), (5, 2))
    x = rng.normal(scale=3.0, size=(5, 2)).astype(np.float32)
    dist = head.distribution((jnp.asarray(mean), jnp.asarray(log_std)))
    np.testing.assert_allclose(dist.log_prob(x), diag_gaussian_log_density(x, mean, log_std), rtol=1e-5)
    np.testing.assert_allclose(dist.entropy(), np.sum(log_std + 0.5 * math.log(2 * math.pi * math.e), -1), rtol=1e-5)
    np.testing.assert_array_equal(head.mode((mean, log_std)), mean)
    np.testing.assert_array_equal(head.to_env(jnp.asarray(x)), np.clip(x, [-2.0, -1.0], [2.0, 0.5]))


def test_rollout_stores_raw_actions_and_the_env_gets_clipped_ones():
    """MountainCarContinuous charges -0.1 * a^2 on the action it is given (unclipped, as in
    Gymnasium), so its rewards show what the environment received."""
    base = preset("mountaincar-continuous-ppo")
    cfg = with_ppo(
        dataclasses.replace(base, network=dataclasses.replace(base.network, log_std_init=3.0)),
        num_envs=4,
        rollout_len=16,
        minibatches=4,
        total_steps=64,
    )
    spec = make_env(cfg.env.name)
    ppo = PPO(cfg, spec)
    key = jax.random.PRNGKey(0)
    params = ppo.init(key)
    mask = ones_mask(params)
    runner = ppo.first_runner(one_run(ppo), RunKeys(key, key), params, mask)
    _, (traj, _) = jax.jit(partial(ppo.rollout, one_run(ppo)))(runner, mask, None)
    action = np.asarray(traj.action)  # [T, E, 1]
    clipped = np.clip(action, -1.0, 1.0)
    assert (np.abs(action) > 1.0).mean() > 0.5  # std e^3: most draws lie outside the bounds

    # The environment got the clipped action: rewards (no one reaches the flag in 16 steps) and
    # the state trajectory are those of the clipped actions.
    np.testing.assert_allclose(traj.reward, -0.1 * clipped[..., 0] ** 2, rtol=1e-5)
    step = jax.jit(jax.vmap(spec.env.step, in_axes=(0, 0, 0, None)))
    state, keys = runner.env_state.env, jax.random.split(key, cfg.ppo.num_envs)
    for t in range(cfg.ppo.rollout_len - 1):
        obs, state, *_ = step(keys, state, jnp.asarray(clipped[t]), spec.params)
        np.testing.assert_allclose(obs, traj.obs[t + 1], rtol=1e-6, atol=1e-7)

    # The stored log-prob (what PPO.loss's ratio divides by) is of the raw draw.
    mean, log_std = (np.asarray(o) for o in ppo.policy_out(params, None, traj.obs))
    np.testing.assert_allclose(log_std, 3.0)
    np.testing.assert_allclose(traj.log_prob, diag_gaussian_log_density(action, mean, log_std), rtol=1e-5)
    assert not np.allclose(traj.log_prob, diag_gaussian_log_density(clipped, mean, log_std), rtol=1e-3)


# (c) Learning.


def random_return(spec, episodes: int = 64) -> float:
    low, high = jnp.asarray(spec.action_low), jnp.asarray(spec.action_high)

    def act(step_key, obs):
        step_key, k = jax.random.split(step_key)
        return jax.random.uniform(k, (obs.shape[0], low.shape[0]), minval=low, maxval=high), step_key

    return float(jax.jit(lambda k: evaluate_episodes(k, act, spec, episodes))(jax.random.PRNGKey(123)))


@pytest.mark.slow  # a learning run; the Gaussian head's unit tests stay fast
def test_ppo_learns_pendulum_far_past_random():
    # 2 seeds x 200k steps (the pendulum-ppo preset, shortened from 300k): ~20 s on one CPU core
    # with compilation (under the 30 s that would make it a slow test). These two seeds reach -177
    # and -127 (best greedy evaluation), 4 seeds -129 +- 34; uniform random torques score ~-1230.
    cfg = with_ppo(preset("pendulum-ppo"), total_steps=200_000)
    spec = make_env(cfg.env.name)
    ppo = PPO(cfg, spec)
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    params = jax.vmap(ppo.init)(keys)
    out = jax.jit(jax.vmap(partial(ppo.stages.train, one_run(ppo))))(RunKeys(keys, keys), params, ones_mask(params))
    best, first = np.asarray(out.best_return), np.asarray(out.eval_returns)[:, 0]
    rand = random_return(spec)
    assert rand < -1000, rand
    assert best.mean() > rand + 700, (best, rand)
    assert (best > first + 300).all(), (best, first)

    # The sampling policy of the best params is also far better than random.
    sample_cfg = dataclasses.replace(cfg, eval=EvalConfig(policy="sample"))
    sampler = PPO(sample_cfg, spec)
    best0 = jax.tree_util.tree_map(lambda x: x[0], out.best_params)
    sampled = float(
        jax.jit(partial(sampler.evaluate, one_run(sampler)))(jax.random.PRNGKey(7), best0, ones_mask(best0))[1]
    )
    assert sampled > rand + 500, (sampled, rand)


# (b), (d) IMP on Pendulum with all five conditions.


@pytest.fixture(scope="module")
def pendulum_imp(tmp_path_factory):
    base = preset("pendulum-ppo")
    cfg = dataclasses.replace(
        base,
        seeds=1,
        levels=2,
        out=str(tmp_path_factory.mktemp("continuous") / "runs"),
        imp=dataclasses.replace(base.imp, conditions=CONDITIONS),
        eval=EvalConfig(policy="sample"),
        ppo=dataclasses.replace(
            base.ppo,
            num_envs=4,
            rollout_len=32,
            epochs=2,
            minibatches=4,
            total_steps=1024,
            eval_every=4,
            eval_episodes=2,
        ),
    )
    return cfg, run(cfg)


def chains(cfg):
    yield 0, DENSE
    for level in range(1, cfg.levels):
        for condition in cfg.imp.conditions:
            yield level, condition


def tree(run_dir, level, condition, kind):
    return files.load_tree(paths.tree_file(run_dir, level, 0, condition, kind))


def test_imp_runs_every_condition_on_pendulum(pendulum_imp):
    cfg, run_dir = pendulum_imp
    rows = {(r["level"], r["condition"]): r for r in load_metrics(run_dir, include_failed=True)}
    assert set(rows) == set(chains(cfg))
    for key, row in rows.items():
        assert row.get("status", "ok") == "ok", key
        assert np.isfinite(row["best_return"]), key
        assert np.all(np.isfinite(row["eval_returns"])), key
        assert row["best_return"] >= -200 * 17, key  # Pendulum's worst step costs ~16.3

    total = 3 * 64 + 64 * 64 + 64 * 1  # actor kernels
    for level, condition in chains(cfg):
        mask, best = tree(run_dir, level, condition, "mask"), tree(run_dir, level, condition, "best")
        kept = 0
        for path, m, w in zip(leaf_paths(mask), jax.tree_util.tree_leaves(mask), jax.tree_util.tree_leaves(best)):
            m, w = np.asarray(m), np.asarray(w)
            assert m.dtype == bool and m.shape == w.shape, path
            assert np.all(w[~m] == 0.0), path  # pruned weights are exactly zero
            if path.startswith("actor/") and path.endswith("kernel"):
                kept += int(m.sum())
            else:
                assert m.all(), path  # biases, log-std and the critic are never pruned
        assert kept == count_after_levels(total, cfg.imp.prune_fraction, level), (level, condition)


def test_log_std_is_never_pruned_and_is_trained(pendulum_imp):
    cfg, run_dir = pendulum_imp
    prunable = prunable_tree(tree(run_dir, 0, DENSE, "start"), cfg.imp.scope)
    assert prunable["actor"]["log_std"] is False
    assert prunable["actor"]["dense_0"]["kernel"] is True
    for level, condition in chains(cfg):
        mask = tree(run_dir, level, condition, "mask")
        start, best = tree(run_dir, level, condition, "start"), tree(run_dir, level, condition, "best")
        assert np.asarray(mask["actor"]["log_std"]).all()
        np.testing.assert_array_equal(start["actor"]["log_std"], cfg.network.log_std_init)
        assert np.all(np.asarray(best["actor"]["log_std"]) != cfg.network.log_std_init), (level, condition)


# rlpyt's choices that the PyBullet presets take: a tanh on the mean, whole-batch advantage normalization.


def test_a_tanh_mean_squashes_only_the_mean():
    from ticketlab.networks.network import make_network

    common = dict(hidden=(8,), out=2, obs_shape=(3,), is_policy=True, gaussian=True, log_std_init=0.3)
    plain, squashed = make_network(**common), make_network(**common, mean_activation="tanh")
    params = plain.init(jax.random.PRNGKey(0), jnp.zeros((1, 3)))
    obs = 10.0 * jax.random.normal(jax.random.PRNGKey(1), (5, 3))
    (mean, log_std), (tanh_mean, tanh_log_std) = plain.apply(params, obs), squashed.apply(params, obs)
    np.testing.assert_allclose(tanh_mean, np.tanh(np.asarray(mean)), rtol=1e-6)
    np.testing.assert_array_equal(tanh_log_std, log_std)
    np.testing.assert_allclose(log_std, 0.3, rtol=1e-7)


def test_whole_batch_advantage_normalization_is_rlpyts():
    from ticketlab.agents.ppo import normalize_over_batch

    a = np.array([[1.0, 2.0], [4.0, 7.0]], np.float32)
    mean, std = a.mean(), math.sqrt(((a - a.mean()) ** 2).sum() / 3)  # torch.std: Bessel's correction
    np.testing.assert_allclose(normalize_over_batch(jnp.asarray(a)), (a - mean) / std, rtol=1e-6)
    flat = jnp.full((4, 2), 3.0)
    np.testing.assert_array_equal(normalize_over_batch(flat), 0.0)  # max(std, 1e-6): no division by zero


def test_batch_normalization_happens_once_per_update_before_the_minibatches():
    """advantage-norm batch = no normalization in the loss, of advantages normalized over the whole
    rollout beforehand (a subclass does that by hand); minibatch normalization differs from both."""

    class NormalizedByHand(PPO):
        def advantages(self, *args):
            adv, targets = super().advantages(*args)
            a = np.asarray(adv, np.float64)
            return jnp.asarray((a - a.mean()) / max(a.std(ddof=1), 1e-6), jnp.float32), targets

    spec = make_env("Pendulum-v1")
    cfg = with_ppo(preset("pendulum-ppo"), num_envs=2, rollout_len=16, minibatches=4, epochs=2)
    ppo = PPO(with_ppo(cfg, advantage_norm="batch"), spec)
    params = ppo.init(jax.random.PRNGKey(0))
    mask = ones_mask(params)
    runner = ppo.first_runner(one_run(ppo), RunKeys(jax.random.PRNGKey(1), jax.random.PRNGKey(2)), params, mask)
    runner, (traj, final_obs) = ppo.rollout(one_run(ppo), runner, mask, None)

    def learned(program):
        new, _, _ = program.learn(
            params, program.tx.init(params), jax.random.PRNGKey(3), mask, None, traj, final_obs, runner.obs
        )
        return np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(new)])

    by_hand = learned(NormalizedByHand(with_ppo(cfg, normalize_advantages=False), spec))
    np.testing.assert_allclose(learned(ppo), by_hand, rtol=2e-5, atol=1e-6)
    per_minibatch = learned(PPO(with_ppo(cfg, advantage_norm="minibatch"), spec))
    assert np.abs(per_minibatch - by_hand).max() > 1e-4


def test_a_linear_clip_schedule_is_rlpyts_per_update_clip():
    """clip-schedule linear: update u of n clips at clip-eps * (n - max(u - 1, 0)) / n (rlpyt anneals
    its ratio clip so whenever it anneals the learning rate): the same as a constant clip of that value."""
    spec = make_env("Pendulum-v1")
    cfg = with_ppo(preset("pendulum-ppo"), num_envs=2, rollout_len=16, minibatches=2, epochs=2, total_steps=320)
    annealed = PPO(with_ppo(cfg, clip_schedule="linear", clip_eps=0.3), spec)
    assert annealed.sizes.num_updates == 10
    # rlpyt sets the clip after each update for the next: updates 0 and 1 clip at 0.3, update 7 at 0.3 * 4 / 10
    assert [float(annealed.clip_at(u)) for u in (0, 1, 2, 7)] == pytest.approx([0.3, 0.3, 0.27, 0.12])
    params = annealed.init(jax.random.PRNGKey(0))
    mask = ones_mask(params)
    runner = annealed.first_runner(
        one_run(annealed), RunKeys(jax.random.PRNGKey(1), jax.random.PRNGKey(2)), params, mask
    )
    runner, (traj, final_obs) = annealed.rollout(one_run(annealed), runner, mask, None)

    def learned(program, update):
        new, _, _ = program.learn(
            params, program.tx.init(params), jax.random.PRNGKey(3), mask, None, traj, final_obs, runner.obs, update
        )
        return np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(new)])

    constant = PPO(with_ppo(cfg, clip_eps=0.3 * 4 / 10), spec)
    np.testing.assert_allclose(learned(annealed, 7), learned(constant, 0), rtol=1e-5, atol=1e-7)
    assert np.abs(learned(annealed, 0) - learned(annealed, 9)).max() > 1e-5
