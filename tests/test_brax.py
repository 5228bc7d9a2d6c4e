"""Brax tasks behind the gymnax API: names from the MuJoCo model against the values, the weak-type
cast that keeps a second step from recompiling, auto-reset and truncation, bad ids, and an IMP run
of Hopper jitted end to end (slow: Brax compiles take tens of seconds)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.cli.main import main
from ticketlab.envs import brax_tasks
from ticketlab.envs.registry import canonical_id, make_env
from ticketlab.experiments.experiment import run
from ticketlab.presets import preset
from ticketlab.pruning.conditions import DENSE, PAPER_CONDITIONS
from ticketlab.pruning.magnitude import count_after_levels
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

SIZES = {"hopper": (11, 3), "walker2d": (17, 6), "halfcheetah": (17, 6), "ant": (27, 8)}


@pytest.mark.parametrize("task", [t if t == "hopper" else pytest.param(t, marks=pytest.mark.slow) for t in SIZES])
def test_ids_and_names(task):  # each task's model loads for seconds: one in the fast suite
    spec = make_env(f"{task}-brax")
    assert spec.id == canonical_id(f"brax:{task}") == f"brax:{task}:spring" and spec.backend == "gymnax"
    assert (spec.obs_shape[0], spec.action_dim) == SIZES[task]
    assert len(spec.obs_names) == spec.obs_shape[0] == len(set(spec.obs_names))
    assert spec.obs_names[-1].startswith("qvel ") and spec.obs_names[1].startswith("qpos ")
    assert spec.max_episode_steps == brax_tasks.EPISODE_STEPS
    assert spec.return_floor == brax_tasks.RANDOM_RETURNS[task]


@pytest.mark.slow  # compiles Brax's reset and step
def test_hopper_observation_is_named_qpos_then_qvel():
    spec = make_env("brax:hopper")
    assert spec.obs_names == (
        "torso z (world)",
        "qpos rooty",
        "qpos thigh_joint",
        "qpos leg_joint",
        "qpos foot_joint",
        "qvel rootx",
        "qvel rootz",
        "qvel rooty",
        "qvel thigh_joint",
        "qvel leg_joint",
        "qvel foot_joint",
    )
    obs, state = jax.jit(spec.env.reset)(jax.random.PRNGKey(0), spec.params)
    step = jax.jit(spec.env.step)
    obs, state, *_ = step(jax.random.PRNGKey(1), state, jnp.full((3,), 0.5, jnp.float32), spec.params)
    physics = state.pipeline.pipeline_state
    q, qd = np.asarray(physics.q), np.asarray(physics.qd)
    np.testing.assert_allclose(obs[0], physics.x.pos[0, 2], rtol=1e-5)  # the torso's height, not rootz
    assert abs(obs[0] - q[1]) > 1.0  # (rootz is relative to the start: about 0)
    np.testing.assert_allclose(obs[1:5], q[2:], rtol=1e-5, atol=1e-6)  # rootx left out
    np.testing.assert_allclose(obs[5:], np.clip(qd, -10, 10), rtol=1e-5, atol=1e-6)
    # the cast state: a second step with the returned state reuses the compiled program
    step(jax.random.PRNGKey(2), state, jnp.zeros((3,)), spec.params)
    assert step._cache_size() == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--env.name", "brax:humanoid"],
            "env.name: unknown Brax task 'humanoid'; allowed: brax:hopper, brax:walker2d",
        ),
        (
            ["--env.name", "brax:hopper:euler"],
            "env.name: unknown Brax backend 'euler' of hopper; allowed: spring, positional",
        ),
        (["--ppo.lr", "-1"], "ppo.lr: must be > 0, got -1.0"),  # after Brax is built: its logs and warnings stay out
    ],
)
def test_bad_brax_input_is_one_line(args, message, tmp_path, capsys):
    assert main(["run", "hopper-brax-ppo", *args, "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_an_episode_ends_by_termination_or_at_the_time_limit():
    spec = make_env("brax:hopper")
    env, params = spec.env, spec.params

    def rollout(key, action):
        obs, state = env.reset(key, params)

        def body(carry, k):
            (state,) = carry
            obs, state, reward, terminated, truncated, info = env.step(k, state, action, params)
            return (state,), (terminated, truncated, state.time)

        _, out = jax.lax.scan(body, (state,), jax.random.split(key, 1200))
        return out

    terminated, truncated, time = jax.jit(rollout)(jax.random.PRNGKey(0), jnp.ones(3))  # full torque: falls
    assert bool(terminated.any()) and int(np.argmax(np.asarray(terminated))) < 200
    assert int(time[int(np.argmax(np.asarray(terminated)))]) == 0  # auto-reset
    terminated, truncated, time = jax.jit(rollout)(jax.random.PRNGKey(0), jnp.zeros(3))
    ends = np.flatnonzero(np.asarray(terminated) | np.asarray(truncated))
    assert not np.asarray(terminated)[: ends[0]].any()
    if np.asarray(truncated).any():
        assert int(np.argmax(np.asarray(truncated))) == brax_tasks.EPISODE_STEPS - 1


@pytest.mark.slow
def test_hopper_brax_imp_is_one_compiled_program(tmp_path):
    base = preset("hopper-brax-ppo")
    cfg = dataclasses.replace(
        base,
        seeds=1,
        levels=2,
        out=str(tmp_path / "runs"),
        ppo=dataclasses.replace(base.ppo, total_steps=5120, eval_every=1, eval_episodes=2),
    )
    run_dir = run(cfg)
    rows = {(r["level"], r["condition"]): r for r in load_metrics(run_dir)}
    assert set(rows) == {(0, DENSE)} | {(1, c) for c in PAPER_CONDITIONS}
    total = (11 * 64 + 64 * 64) * 2 + 64 * 3 + 64 * 1
    for (level, condition), row in rows.items():
        assert np.isfinite(row["best_return"]) and row["env_steps"] == 5120
        mask = files.load_tree(paths.tree_file(run_dir, level, 0, condition, "mask"))
        best = files.load_tree(paths.tree_file(run_dir, level, 0, condition, "best"))
        kept = 0
        for (path, m), w in zip(jax.tree_util.tree_leaves_with_path(mask), jax.tree_util.tree_leaves(best)):
            m, w = np.asarray(m), np.asarray(w)
            assert m.dtype == bool and np.all(w[~m] == 0.0), path
            kept += int(m.sum()) if "kernel" in jax.tree_util.keystr(path) else 0
        assert kept == count_after_levels(total, cfg.imp.prune_fraction, level), (level, condition)


@pytest.mark.slow
def test_the_hopper_floor_is_a_random_policys_return():
    from ticketlab.envs.gymnax_envs import evaluate_episodes

    spec = make_env("brax:hopper")

    def act(key, obs):
        key, k = jax.random.split(key)
        return jax.random.uniform(k, (obs.shape[0], spec.action_dim), minval=-1, maxval=1), key

    mean = float(jax.jit(lambda k: evaluate_episodes(k, act, spec, 64))(jax.random.PRNGKey(0)))
    assert mean == pytest.approx(brax_tasks.RANDOM_RETURNS["hopper"], abs=0.05)
