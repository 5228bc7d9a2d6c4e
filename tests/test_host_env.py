"""The host (Gymnasium) backend against plain single gymnasium environments, step by step."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from ticketlab.envs.base import EnvSpec
from ticketlab.envs.host import HostVectorEnv, evaluate_host, gymnasium_facts

# -- facts ------------------------------------------------------------------------------------------


def test_facts_cartpole():
    f = gymnasium_facts("CartPole-v1")
    assert isinstance(f, EnvSpec) and f.backend == "host"
    assert f.id == "gymnasium:CartPole-v1"
    assert f.obs_shape == (4,) and f.obs_dtype == "float32"
    assert f.discrete and f.num_actions == 2 and f.action_dim == 0
    assert f.action_low == () and f.action_high == ()
    assert f.max_episode_steps == 500
    assert f.obs_names == ("cart position", "cart velocity", "pole angle", "pole angular velocity")
    with pytest.raises(Exception):
        f.num_actions = 3  # frozen


def test_facts_pendulum():
    f = gymnasium_facts("Pendulum-v1")
    assert f.obs_shape == (3,) and f.obs_dtype == "float32"
    assert not f.discrete and f.action_dim == 1 and f.num_actions == 0
    assert f.action_low == (-2.0,) and f.action_high == (2.0,)
    assert all(isinstance(x, float) for x in f.action_low + f.action_high)
    assert f.max_episode_steps == 200
    assert f.obs_names == ("cos theta", "sin theta", "theta dot")


def test_facts_mountain_car_continuous():
    f = gymnasium_facts("MountainCarContinuous-v0")
    assert f.obs_shape == (2,)
    assert not f.discrete and f.action_dim == 1
    assert f.action_low == (-1.0,) and f.action_high == (1.0,)
    assert f.max_episode_steps == 999
    assert f.obs_names == ("position", "velocity")


def test_facts_acrobot_names_and_generic_names():
    assert gymnasium_facts("Acrobot-v1").obs_names == (
        "cos theta1",
        "sin theta1",
        "cos theta2",
        "sin theta2",
        "theta1 dot",
        "theta2 dot",
    )
    f = gymnasium_facts("LunarLander-v3") if _can_make("LunarLander-v3") else None
    if f is not None:
        assert f.obs_names == tuple(f"obs[{i}]" for i in range(8))


def _can_make(env_id: str) -> bool:
    try:
        gymnasium.make(env_id).close()
        return True
    except Exception:
        return False


def test_unknown_id_raises_key_error_listing_ids():
    with pytest.raises(KeyError) as err:
        gymnasium_facts("CartPoel-v1")
    assert "CartPole-v1" in str(err.value)
    with pytest.raises(KeyError) as err:
        HostVectorEnv("NoSuchEnv-v0", 2, 0)
    assert "registered" in str(err.value)


@pytest.mark.parametrize("env_id, space", [("FrozenLake-v1", "Discrete"), ("Blackjack-v1", "Tuple")])
def test_non_box_observations_raise_value_error(env_id, space):
    with pytest.raises(ValueError) as err:
        gymnasium_facts(env_id)
    msg = str(err.value)
    assert "\n" not in msg and space in msg and env_id in msg


# -- HostVectorEnv against plain envs -----------------------------------------------------------------


def _plain_rollout(env_id, seeds, actions):
    """Step one plain env per seed through `actions[t, i]`; on an episode end record the last obs and
    call reset() without a seed (what a vector env's autoreset does)."""
    envs = [gymnasium.make(env_id) for _ in seeds]
    first = np.stack([e.reset(seed=s)[0] for e, s in zip(envs, seeds)])
    steps = []
    for t in range(len(actions)):
        obs, rew, term, trunc, final = [], [], [], [], []
        for i, e in enumerate(envs):
            o, r, te, tr, _ = e.step(actions[t][i])
            final.append(o)
            if te or tr:
                o, _ = e.reset()
            obs.append(o)
            rew.append(r)
            term.append(te)
            trunc.append(tr)
        steps.append(tuple(np.array(x) for x in (obs, rew, term, trunc, final)))
    for e in envs:
        e.close()
    return first, steps


def test_cartpole_matches_plain_envs_across_episode_ends():
    n, seed, horizon = 3, 11, 80
    actions = np.random.default_rng(0).integers(0, 2, size=(horizon, n))
    first, expected = _plain_rollout("CartPole-v1", [seed + i for i in range(n)], actions.tolist())
    ends = 0
    with HostVectorEnv("CartPole-v1", n, seed) as env:
        obs = env.reset()
        assert obs.dtype == np.float32 and obs.shape == (n, 4)
        np.testing.assert_array_equal(obs, first)
        for t in range(horizon):
            obs, rew, term, trunc, final = env.step(actions[t])
            e_obs, e_rew, e_term, e_trunc, e_final = expected[t]
            assert rew.dtype == np.float32 and term.dtype == np.bool_ and trunc.dtype == np.bool_
            assert final.shape == obs.shape and final.dtype == np.float32
            np.testing.assert_array_equal(obs, e_obs)
            np.testing.assert_array_equal(rew, e_rew.astype(np.float32))
            np.testing.assert_array_equal(term, e_term)
            np.testing.assert_array_equal(trunc, e_trunc)
            np.testing.assert_array_equal(final, e_final)
            done = term | trunc
            ends += int(done.sum())
            # obs differs from final_obs exactly where an episode ended
            assert np.array_equal(obs[~done], final[~done])
            assert all(not np.array_equal(obs[i], final[i]) for i in np.flatnonzero(done))
    assert ends >= 3  # the random sequence really crosses several episode ends


def test_reset_is_reproducible_and_later_resets_continue_the_rng():
    n, seed = 2, 5
    zeros = np.zeros(n, dtype=np.int64)
    with HostVectorEnv("CartPole-v1", n, seed) as a, HostVectorEnv("CartPole-v1", n, seed) as b:
        first = a.reset()
        np.testing.assert_array_equal(first, b.reset())
        for _ in range(5):
            np.testing.assert_array_equal(a.step(zeros)[0], b.step(zeros)[0])
        second = a.reset()  # not reseeded: continues like a plain env's reset() without a seed
        assert not np.array_equal(second, first)
        plain = [gymnasium.make("CartPole-v1") for _ in range(n)]
        for i, e in enumerate(plain):
            e.reset(seed=seed + i)
            for _ in range(5):
                _, _, te, tr, _ = e.step(0)
                if te or tr:
                    e.reset()
            np.testing.assert_array_equal(second[i], e.reset()[0])
            e.close()


def test_float_discrete_actions_are_cast_and_step_before_reset_fails():
    with HostVectorEnv("CartPole-v1", 2, 0) as env:
        with pytest.raises(RuntimeError):
            env.step(np.zeros(2, dtype=np.int64))
        env.reset()
        env.step(np.array([0.0, 1.0], dtype=np.float32))
        with pytest.raises(ValueError):
            env.step(np.array([0.5, 1.0]))
        with pytest.raises(ValueError):
            env.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(RuntimeError):
        env.reset()  # closed by the context manager


# -- continuous actions and truncation --------------------------------------------------------------


def test_pendulum_clipping_matches_bound_and_leaves_caller_array():
    n, seed, horizon = 2, 3, 20
    with HostVectorEnv("Pendulum-v1", n, seed) as big, HostVectorEnv("Pendulum-v1", n, seed) as edge:
        np.testing.assert_array_equal(big.reset(), edge.reset())
        for t in range(horizon):
            sign = 1.0 if t % 3 else -1.0
            wild = np.full((n, 1), 5.0 * sign, dtype=np.float32)
            kept = wild.copy()
            out_big = big.step(wild)
            out_edge = edge.step(np.full((n, 1), 2.0 * sign, dtype=np.float32))
            np.testing.assert_array_equal(wild, kept)  # the caller's array is not clipped in place
            for x, y in zip(out_big, out_edge):
                np.testing.assert_array_equal(x, y)
    # and 2.0 itself is what a plain Pendulum does with 2.0
    plain = gymnasium.make("Pendulum-v1")
    plain.reset(seed=seed)
    with HostVectorEnv("Pendulum-v1", 1, seed) as env:
        env.reset()
        for _ in range(5):
            o, r, *_ = env.step(np.array([[7.5]], dtype=np.float32))
            po, pr, *_ = plain.step(np.array([2.0], dtype=np.float32))
            np.testing.assert_array_equal(o[0], po)
            assert r[0] == np.float32(pr)
    plain.close()


def test_pendulum_truncates_at_time_limit_with_final_obs():
    with HostVectorEnv("Pendulum-v1", 1, 0) as env:
        env.reset()
        a = np.zeros((1, 1), dtype=np.float32)
        for t in range(200):
            obs, _, term, trunc, final = env.step(a)
            assert not term[0]
            assert trunc[0] == (t == 199)
        assert not np.array_equal(obs, final)
        plain = gymnasium.make("Pendulum-v1")
        plain.reset(seed=0)
        for _ in range(200):
            last = plain.step(np.zeros(1, dtype=np.float32))[0]
        np.testing.assert_array_equal(final[0], last)
        np.testing.assert_array_equal(obs[0], plain.reset()[0])
        plain.close()


# -- evaluation ------------------------------------------------------------------------------------


def test_evaluate_host_matches_plain_envs():
    n, seed = 4, 21
    returns = evaluate_host("CartPole-v1", lambda obs: np.zeros(len(obs), dtype=np.int64), n, seed)
    expected = []
    for i in range(n):
        e = gymnasium.make("CartPole-v1")
        e.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            _, r, te, tr, _ = e.step(0)
            total += r
            done = te or tr
        expected.append(total)
        e.close()
    assert returns.shape == (n,)
    np.testing.assert_array_equal(returns, expected)
    capped = evaluate_host("CartPole-v1", lambda obs: np.zeros(len(obs), dtype=np.int64), n, seed, max_steps=3)
    np.testing.assert_array_equal(capped, np.minimum(expected, 3.0))


# -- asynchronous --------------------------------------------------------------------------------


def test_async_matches_sync():
    n, seed = 2, 9
    actions = np.random.default_rng(1).integers(0, 2, size=(30, n))
    with HostVectorEnv("CartPole-v1", n, seed) as s, HostVectorEnv("CartPole-v1", n, seed, asynchronous=True) as a:
        np.testing.assert_array_equal(s.reset(), a.reset())
        for t in range(len(actions)):
            for x, y in zip(s.step(actions[t]), a.step(actions[t])):
                np.testing.assert_array_equal(x, y)
