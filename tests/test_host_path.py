"""The host path: a Gymnasium environment stepped in Python, with the same jitted acting and
learning functions as the compiled path, inside the same IMP driver and store."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ticketlab
from ticketlab.store import files
from ticketlab.agents.ppo import PPO, Transition
from ticketlab.agents.ppo_host import HostPPO
from ticketlab.envs.host import HostVectorEnv
from ticketlab.envs.registry import make_env
from ticketlab.store.results import load_metrics
from ticketlab.pruning.masks import ones_mask

from conftest import tiny_config


def _host_config(out, **ppo_fields):
    cfg = tiny_config(out)
    return dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, name="gymnasium:CartPole-v1"),
                               ppo=dataclasses.replace(cfg.ppo, **ppo_fields))


def _gymnasium_rollout(ppo: PPO, params, mask, seed=0, steps=32):
    """A rollout of CartPole-v1 collected on the host with the policy's own `act`."""
    env = HostVectorEnv("CartPole-v1", ppo.cfg.num_envs, seed)
    obs, key, out = jnp.asarray(env.reset()), jax.random.PRNGKey(seed), []
    finals = []
    for _ in range(steps):
        key, k_act = jax.random.split(key)
        action, log_prob = ppo.act(params, mask, k_act, obs)
        next_obs, reward, terminated, truncated, final_obs = env.step(np.asarray(action))
        out.append(Transition(obs, action, log_prob, jnp.asarray(reward), jnp.asarray(terminated | truncated),
                              jnp.asarray(truncated & ~terminated)))
        finals.append(final_obs)
        obs = jnp.asarray(next_obs)
    env.close()
    traj = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *out)
    return traj, jnp.asarray(np.stack(finals)), obs


def test_one_update_on_a_fixed_batch_is_the_same_through_both_paths(tmp_path):
    cfg = _host_config(tmp_path)
    ppo = PPO(cfg, make_env("gymnasium:CartPole-v1"))
    jitted = PPO(cfg, make_env("CartPole-v1"))
    params = ppo.init(jax.random.PRNGKey(0))
    mask = ones_mask(params)
    traj, final_obs, last_obs = _gymnasium_rollout(ppo, params, mask)
    key = jax.random.PRNGKey(5)
    # the compiled path's update, one run
    want = jax.jit(jitted.learn)(params, jitted.tx.init(params), key, mask, traj, final_obs, last_obs)
    # the host path's batched update, the same run as a batch of one
    host = HostPPO(ppo)
    batch = lambda t: jax.tree_util.tree_map(lambda x: x[None], t)  # noqa: E731
    got = host.learn(batch(params), host.opt_init(batch(params)), key[None], batch(mask), batch(traj),
                     final_obs[None], last_obs[None], 0)
    for a, b in zip(jax.tree_util.tree_leaves(want[0]), jax.tree_util.tree_leaves(got[0])):
        np.testing.assert_allclose(np.asarray(b)[0], np.asarray(a), rtol=2e-5, atol=1e-6)
    assert any(np.any(np.asarray(a) != np.asarray(p)) for a, p in
               zip(jax.tree_util.tree_leaves(want[0]), jax.tree_util.tree_leaves(params)))  # it did update


@pytest.mark.slow  # about 25 s of Python-stepped environments; CI runs it in its second step
def test_gymnasium_cartpole_learns_through_the_host_path_and_resumes_identically(tmp_path):
    cfg = _host_config(tmp_path / "a", total_steps=16_384, eval_every=32, eval_episodes=4)
    cfg = dataclasses.replace(cfg, seeds=2, levels=2, imp=dataclasses.replace(cfg.imp, conditions=("mask_weights",)))
    run = ticketlab.run(cfg)
    rows = load_metrics(run)
    dense = [r["best_return"] for r in rows if r["level"] == 0]
    assert np.mean(dense) >= 150, dense  # a random policy scores about 22
    ticket = [r for r in rows if r["level"] == 1]
    assert len(ticket) == 2 and all(abs(r["density"] - 0.8) < 1e-3 for r in ticket)
    # the same config elsewhere computes the same numbers (seeds come from run identity)
    again = ticketlab.run(dataclasses.replace(cfg, out=str(tmp_path / "b"), levels=1))
    for seed in (0, 1):
        a = files.load_tree(run / "levels" / "level_00" / f"seed_{seed}" / "dense" / "best.safetensors")
        b = files.load_tree(again / "levels" / "level_00" / f"seed_{seed}" / "dense" / "best.safetensors")
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
            np.testing.assert_array_equal(x, y)
