"""register_env meets environments that are not gymnax 1.0: the five-value step adapted by one rule
(checked against a hand-stepped episode), the episode limit as an argument, and one line, never a
traceback, for each thing a broken environment lacks (tests/user_envs/five_value.py)."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ticketlab
from ticketlab.core.errors import ConfigError
from ticketlab.envs.gymnax_envs import GymnaxEnvs, evaluate_episodes
from ticketlab.store.results import load_metrics

USER_ENVS = Path(__file__).parent / "user_envs"


@pytest.fixture
def five_value(monkeypatch):
    monkeypatch.syspath_prepend(str(USER_ENVS))
    import five_value

    return five_value


def _episode(spec, actions, key=0):
    """Each step's (position of the returned obs, reward, terminated, truncated, final position)."""
    obs, state = spec.env.reset(jax.random.PRNGKey(key), spec.params)
    assert float(obs[0]) == 0.0
    out = []
    for t, a in enumerate(actions):
        obs, state, reward, terminated, truncated, info = spec.env.step(
            jax.random.PRNGKey(100 + t), state, jnp.int32(a), spec.params
        )
        final = info["final_observation"]
        out.append(
            (round(float(obs[0]) * 4), float(reward), bool(terminated), bool(truncated), round(float(final[0]) * 4))
        )
    return out


@pytest.mark.parametrize("env_id", ["FiveValueCorridor-v0", "ResettingCorridor-v0"])
def test_a_five_value_environment_steps_as_gymnax_one_by_hand(five_value, env_id):
    spec = ticketlab.make_env(env_id, module="five_value")
    assert spec.max_episode_steps == 6 and spec.obs_names == ("position", "noise") and spec.num_actions == 2
    # right four times: the goal at step 4 is a termination; the next obs is the reset's, the final one the goal
    # then left six times: step 6 of the episode is a truncation at cell 0
    # then right 3, left 1, right 2: the goal is reached at step 6, the limit: a truncation (the rule)
    steps = _episode(spec, [1, 1, 1, 1] + [0] * 6 + [1, 1, 1, 0, 1, 1, 0])
    want = [
        (1, -0.01, False, False, 1),
        (2, -0.01, False, False, 2),
        (3, -0.01, False, False, 3),
        (0, 1.0, True, False, 4),
        *[(0, -0.01, False, False, 0)] * 5,
        (0, -0.01, False, True, 0),
        (1, -0.01, False, False, 1),
        (2, -0.01, False, False, 2),
        (3, -0.01, False, False, 3),
        (2, -0.01, False, False, 2),
        (3, -0.01, False, False, 3),
        (0, 1.0, False, True, 4),
        (0, -0.01, False, False, 0),  # a new episode: left at cell 0
    ]
    assert steps == [(p, pytest.approx(r), te, tr, f) for p, r, te, tr, f in want]


def test_the_engine_evaluates_a_five_value_environment_by_hand(five_value):
    spec = ticketlab.make_env("FiveValueCorridor-v0", module="five_value")

    def always(action):
        return lambda key, obs: (jnp.full(obs.shape[0], action, jnp.int32), key)

    right = jax.jit(lambda k: evaluate_episodes(k, always(1), spec, 3))(jax.random.PRNGKey(0))
    left = jax.jit(lambda k: evaluate_episodes(k, always(0), spec, 3))(jax.random.PRNGKey(0))
    np.testing.assert_allclose([right, left], [1.0 - 0.03, -0.06], rtol=1e-6)
    envs = GymnaxEnvs(spec, 4, 2)
    state, obs = envs.reset(jax.random.PRNGKey(1))
    for t in range(4):
        state, out = envs.step(state, jax.random.PRNGKey(t), jnp.ones(4, jnp.int32))
    assert out.finished_count == 4 and float(out.finished_total) == pytest.approx(4 * 0.97)
    terminated = ticketlab.make_env("FiveValueCorridor-v0", module="five_value", time_limit="terminate")
    assert [s[2:4] for s in _episode(terminated, [0] * 6)][-1] == (True, True)


@pytest.mark.parametrize(
    "env_id, says",
    [
        ("NoLimit-v0", "the params (Params) carry no max_steps_in_episode; pass the episode limit as register_env(..., max_episode_steps=N)"),
        ("WrongLimit-v0", "max_episode_steps must be >= 1, got 0"),
        ("ResetFails-v0", "reset(key, params) fails: AttributeError: "),
        ("FourValues-v0", "step returns 4 values; allowed: 6 (obs, state, reward, terminated, truncated, info) or 5 (obs, state, reward, done, info)"),
        ("DictObservation-v0", "the observation is a dict of arrays, not one array; flatten it to one array in a wrapper"),
        ("NoActionSpace-v0", "the environment has no action_space; gymnax's API needs reset, step, observation_space, action_space"),
        ("SixValuesNoFinal-v0", "step's info has no final_observation"),
        ("NotATuple-v0", "the factory must return (env, env_params), got FiveValueCorridor"),
    ],
)  # fmt: skip
def test_a_broken_environment_is_one_line_naming_what_is_missing(five_value, env_id, says):
    with pytest.raises(ConfigError) as raised:
        ticketlab.make_env(env_id, module="five_value")
    message = str(raised.value)
    assert message.startswith(f"register_env: {env_id}: {says}") and "\n" not in message


def test_a_broken_environment_exits_2_from_the_command_line_before_anything_is_written(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(USER_ENVS), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "runs"
    args = [sys.executable, "-m", "ticketlab.cli", "run", "cartpole-ppo", "--env.module", "five_value"]
    done = subprocess.run(
        args + ["--env.name", "NoLimit-v0", "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "ticketlab: error: register_env: NoLimit-v0: the params (Params) carry no max_steps_in_episode; "
        "pass the episode limit as register_env(..., max_episode_steps=N)"
    ]
    assert not out.exists()


@pytest.mark.slow  # an IMP run through the command line on a five-value environment (about 40 s)
def test_a_five_value_environment_runs_imp_from_the_command_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(USER_ENVS), os.environ.get("PYTHONPATH", "")]))
    args = [sys.executable, "-m", "ticketlab.cli", "run", "cartpole-ppo", "--env.module", "five_value"]
    args += ["--env.name", "FiveValueCorridor-v0", "--seeds", "1", "--levels", "2", "--ppo.total-steps", "2048"]
    args += ["--ppo.eval-every", "4", "--ppo.eval-episodes", "2", "--out", str(tmp_path / "runs")]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    run = next((tmp_path / "runs").glob("cartpole-ppo-*"))
    rows = load_metrics(run)
    assert {r["level"] for r in rows} == {0, 1}
    dense = [r["best_return"] for r in rows if r["level"] == 0]
    assert max(dense) > 0.9  # reaches the goal in 4 steps (a random walk does so in 6 steps 1 time in 4)
