"""The paper's PyBullet tasks: their observation names against the robots' own joint and foot lists
and against the values the environment returns, their specs and floors, the missing extra, and an
IMP run of Hopper (actor and critic pruned) through the host path."""

import dataclasses
import sys

import gymnasium
import jax
import numpy as np
import pytest

from ticketlab.cli.main import main
from ticketlab.envs import bullet
from ticketlab.envs.host import quiet_native_output
from ticketlab.envs.registry import make_env
from ticketlab.experiments.experiment import run
from ticketlab.presets import preset
from ticketlab.presets.continuous import BULLET_TASKS
from ticketlab.pruning.conditions import DENSE, PAPER_CONDITIONS
from ticketlab.pruning.magnitude import count_after_levels
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

SHAPES = {
    "HopperBulletEnv-v0": (15, 3),
    "Walker2DBulletEnv-v0": (22, 6),
    "HalfCheetahBulletEnv-v0": (26, 6),
    "AntBulletEnv-v0": (28, 8),
}


def _robot_env(env_id, seed=0):
    with quiet_native_output():
        env = gymnasium.make(bullet.host_id(env_id))
        obs, _ = env.reset(seed=seed)
    return env, obs


@pytest.mark.parametrize("env_id", list(SHAPES))
def test_observation_names_follow_the_robot_and_its_values(env_id):
    env, obs = _robot_env(env_id)
    robot = env.unwrapped.robot
    assert bullet.JOINTS[env_id] == tuple(j.joint_name for j in robot.ordered_joints)
    assert bullet.FEET[env_id] == tuple(robot.foot_list)
    names = bullet.obs_names(env_id)
    assert len(names) == obs.shape[0] == len(set(names))
    # after some random steps, each named dimension holds what its name says
    rng = np.random.default_rng(0)
    for _ in range(5):
        obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
    for i, joint in enumerate(robot.ordered_joints):
        position, speed = joint.current_relative_position()
        assert names[8 + 2 * i] == f"{joint.joint_name} position"
        np.testing.assert_allclose(obs[8 + 2 * i], np.clip(position, -5, 5), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(obs[9 + 2 * i], np.clip(speed, -5, 5), rtol=1e-5, atol=1e-6)
    feet = len(robot.foot_list)
    assert names[-feet:] == tuple(f"{foot} contact" for foot in robot.foot_list)
    np.testing.assert_array_equal(obs[-feet:], robot.feet_contact)
    assert names[:8] == bullet.BODY
    np.testing.assert_allclose(obs[6:8], np.clip(robot.body_rpy[:2], -5, 5), rtol=1e-5, atol=1e-6)  # roll, pitch
    np.testing.assert_allclose(obs[0], robot.body_xyz[2] - robot.initial_z, rtol=1e-5, atol=1e-6)  # z - z0
    env.close()


@pytest.mark.parametrize("env_id", list(SHAPES))
def test_each_task_is_a_host_environment_with_named_inputs(env_id):
    spec = make_env(bullet.ALIASES[env_id])
    assert (spec.id, spec.host_id, spec.backend) == (env_id, bullet.host_id(env_id), "host")
    assert (spec.obs_shape[0], spec.action_dim) == SHAPES[env_id]
    assert spec.action_low == (-1.0,) * spec.action_dim and spec.action_high == (1.0,) * spec.action_dim
    assert spec.max_episode_steps == 1000
    assert spec.obs_names == bullet.obs_names(env_id)
    assert spec.return_floor == bullet.RANDOM_RETURNS[env_id]


def _random_return(env_id, episodes=50):
    """The measurement behind RANDOM_RETURNS: uniform actions, episodes seeded 0..49."""
    with quiet_native_output():
        env = gymnasium.make(bullet.host_id(env_id))
    env.action_space.seed(0)
    returns = []
    for episode in range(episodes):
        env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + reward, terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def test_the_hopper_floor_is_a_random_policys_return():
    assert _random_return("HopperBulletEnv-v0") == pytest.approx(bullet.RANDOM_RETURNS["HopperBulletEnv-v0"], abs=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ["Walker2DBulletEnv-v0", "HalfCheetahBulletEnv-v0", "AntBulletEnv-v0"])
def test_the_other_floors_are_random_policies_returns(env_id):
    assert _random_return(env_id) == pytest.approx(bullet.RANDOM_RETURNS[env_id], abs=0.05)


def test_a_missing_bullet_extra_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, bullet.MODULE, None)  # what `import` sees when the package is absent
    code = main(["run", "hopper-bullet-ppo", "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("ticketlab: error: env.name: HopperBulletEnv-v0 needs pybullet-envs-gymnasium (")
    assert err[0].endswith('run: pip install -e ".[bullet]"')
    assert not (tmp_path / "runs").exists()


def test_the_presets_follow_table_7():
    for task, env_id in BULLET_TASKS.items():
        cfg = preset(f"{task}-bullet-ppo", "paper")
        p = cfg.ppo
        assert cfg.env.name == env_id and (cfg.seeds, cfg.levels) == (10, 20)
        assert (
            p.lr,
            p.gamma,
            p.gae_lambda,
            p.total_steps,
            p.value_coef,
            p.entropy_coef,
            p.clip_eps,
            p.num_envs,
            p.epochs,
        ) == (5e-4, 0.99, 0.98, 1_500_000, 0.5, 0.001, 0.2, 10, 10)
        assert cfg.network.actor_hidden == cfg.network.critic_hidden == (64, 64)
        assert cfg.imp.scope == "actor_critic" and cfg.imp.prune_fraction == 0.2


@pytest.mark.slow
def test_hopper_imp_prunes_actor_and_critic_through_the_host_path(tmp_path):
    base = preset("hopper-bullet-ppo")
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
    total = sum(a * b for a, b in [(15, 64), (64, 64)]) * 2 + 64 * 3 + 64 * 1  # actor and critic kernels
    for (level, condition), row in rows.items():
        assert np.isfinite(row["best_return"]) and row["env_steps"] == 5120
        mask = files.load_tree(paths.tree_file(run_dir, level, 0, condition, "mask"))
        kept_per_input = np.asarray(mask["actor"]["dense_0"]["kernel"]).sum(axis=1)
        np.testing.assert_array_equal(row["input_layer"]["actor"]["kept"], kept_per_input)  # 15 named inputs
        best = files.load_tree(paths.tree_file(run_dir, level, 0, condition, "best"))
        kept = 0
        for m, w, path in zip(
            jax.tree_util.tree_leaves(mask),
            jax.tree_util.tree_leaves(best),
            [jax.tree_util.keystr(k) for k, _ in jax.tree_util.tree_leaves_with_path(mask)],
        ):
            m, w = np.asarray(m), np.asarray(w)
            assert m.dtype == bool and np.all(w[~m] == 0.0), path
            kept += int(m.sum()) if "kernel" in path else 0
        assert kept == count_after_levels(total, cfg.imp.prune_fraction, level), (level, condition)
        critic = np.asarray(mask["critic"]["dense_0"]["kernel"])
        assert critic.all() == (level == 0)  # ACP: the critic is pruned too
