"""The host backend: Gymnasium environments stepped in Python through host callbacks inside the one
compiled training program, under the same IMP driver and store."""

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

import ticketlab
from ticketlab.envs.host import HostVectorEnv, evaluate_host
from ticketlab.envs.host_envs import HostEnvs, host_seed
from ticketlab.envs.registry import env_spec, make_env
from ticketlab.experiments.configure import parse_run_args
from ticketlab.store import files
from ticketlab.store.results import load_metrics


def _host_config(out, **ppo_fields):
    cfg = tiny_config(out)
    return dataclasses.replace(
        cfg,
        env=dataclasses.replace(cfg.env, name="gymnasium:CartPole-v1"),
        ppo=dataclasses.replace(cfg.ppo, **ppo_fields),
    )


def test_host_environments_step_inside_the_program_as_gymnasium_steps_them():
    """The host backend's environments, reset and stepped by one compiled program for a block of two
    runs (each seeded from its own key), give what the same Gymnasium environments give stepped by
    hand; and an evaluation returns what `evaluate_host` counts for the same policy."""
    spec = make_env("gymnasium:CartPole-v1")
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    actions = jax.random.randint(jax.random.PRNGKey(4), (40, 2, 3), 0, 2)
    envs = HostEnvs(spec, num_envs=3, eval_episodes=4, runs=2)

    def rollout(envs, key, actions):
        state, obs = envs.reset(key)

        def step(state, action):
            state, out = envs.step(state, None, action)
            return state, (out.obs, out.reward, out.terminated, out.truncated, out.final_obs, out.finished_count)

        return obs, jax.lax.scan(step, state, actions)[1]

    first, (obs, reward, terminated, truncated, final_obs, ended) = jax.jit(partial(rollout, envs))(keys, actions)
    envs.close()
    for r, key in enumerate(keys):
        with HostVectorEnv("CartPole-v1", 3, int(host_seed(key))) as env:
            np.testing.assert_array_equal(first[r], env.reset())
            for t in range(40):
                o, rew, term, trunc, fin = env.step(np.asarray(actions[t, r]))
                for got, want in ((obs, o), (reward, rew), (terminated, term), (truncated, trunc), (final_obs, fin)):
                    np.testing.assert_array_equal(got[t, r], want)
                assert int(ended[t, r]) == int(np.sum(term | trunc))
    assert np.asarray(ended).sum() > 0  # episodes ended and restarted within the 40 steps

    def policy(w, step_key, obs):
        return (obs @ w > 0).astype(jnp.int32), step_key

    weights = jnp.asarray([[0.0, 0.1, 1.0, 0.5], [0.0, 0.0, 1.0, 1.0]])  # two runs' linear policies
    got = jax.jit(lambda k, w: envs.evaluate(None, k, policy, w)[1])(keys, weights)
    envs.close()
    for r, key in enumerate(keys):
        k_seed, k_act = jax.random.split(key)
        want = evaluate_host(
            "CartPole-v1", lambda o: np.asarray(o @ np.asarray(weights[r]) > 0, np.int64), 4, int(host_seed(k_seed))
        )
        assert float(got[r]) == want.mean()
    assert float(got.max()) > 100  # (the policies balance: the episodes are long)


def test_a_host_time_limit_can_terminate():
    """`--env.time-limit terminate` on the host backend (rlpyt's no bootstrap at the horizon):
    Pendulum's 200-step limit is reported as a termination, as gymnax's wrapper reports it."""
    cfg = parse_run_args(["pendulum-ppo", "--env.name", "gymnasium:Pendulum-v1", "--env.time-limit", "terminate"])
    spec = env_spec(cfg.env)
    assert spec.time_limit == "terminate"
    envs = HostEnvs(spec, num_envs=1, eval_episodes=1, runs=1)

    def rollout(key):
        state, _ = envs.reset(key)
        step = lambda state, _: (lambda s, out: (s, (out.terminated, out.truncated)))(
            *envs.step(state, None, jnp.zeros((1, 1, 1)))
        )
        return jax.lax.scan(step, state, None, length=200)[1]

    terminated, truncated = jax.jit(rollout)(jax.random.PRNGKey(0)[None])
    envs.close()
    assert np.asarray(truncated)[-1].all() and np.asarray(terminated)[-1].all()  # the limit: both
    assert not np.asarray(terminated)[:-1].any()  # Pendulum itself never terminates


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
