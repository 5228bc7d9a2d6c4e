"""Behavioural cloning of Gaussian policies (KL) and of Q-values (Huber): the trainers distil a
fixed teacher, through the same engine as the categorical students."""

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import teacher_file

import ticketlab
from ticketlab.agents import bc
from ticketlab.agents.base import Agent
from ticketlab.agents.experts import load_expert
from ticketlab.agents.output import RunKeys
from ticketlab.core.config import StudentConfig
from ticketlab.envs.backends import program
from ticketlab.envs.gymnax_envs import GymnaxEnvs
from ticketlab.envs.registry import make_env
from ticketlab.presets import preset
from ticketlab.pruning.masks import ones_mask
from ticketlab.store.results import load_metrics


def _config(env_id, loss, expert_path, **bc_fields):
    base = preset("cartpole-bc")
    fields = (
        dict(
            expert=str(expert_path),
            loss=loss,
            total_steps=2_000,
            epochs=20,
            batch_size=100,
            eval_every=100,
            eval_episodes=2,
        )
        | bc_fields
    )
    # not the preset's name: a preset refuses an environment of another action kind (validate.py)
    return dataclasses.replace(
        base,
        name=f"{env_id.lower()}-students",
        env=dataclasses.replace(base.env, name=env_id),
        student=StudentConfig(hidden=(64, 64)),
        bc=dataclasses.replace(base.bc, **fields),
    )


@pytest.mark.parametrize(
    "env_id,kind,loss", [("Pendulum-v1", "gaussian", "kl_gaussian"), ("CartPole-v1", "q", "huber_value")]
)
def test_a_student_distils_its_teacher(tmp_path, env_id, kind, loss):
    expert = load_expert(teacher_file(tmp_path, env_id, kind))
    assert expert.kind == kind and expert.epsilon == 0.1
    cfg = _config(env_id, loss, expert.path)
    student = bc.BC(cfg, make_env(env_id), expert)
    envs = GymnaxEnvs(make_env(env_id), cfg.bc.num_envs, cfg.bc.eval_episodes)
    params = student.init(jax.random.PRNGKey(0))
    out = jax.jit(partial(student.stages.train, envs))(
        RunKeys(jax.random.PRNGKey(1), jax.random.PRNGKey(2)), params, ones_mask(params)
    )
    losses = np.asarray(out.train_curve)
    assert losses[-1] < 0.35 * losses[0], losses  # the distillation loss keeps falling
    obs, teacher_out = student.collect(envs, jax.random.PRNGKey(9))
    student_out = student.out(out.final_params, obs)
    if kind == "gaussian":
        assert params["actor"]["log_std"].shape == (1,)  # a state-independent log-std, trained too
        assert not np.allclose(np.asarray(out.final_params["actor"]["log_std"]), 0.0)
        np.testing.assert_allclose(np.asarray(student_out[0]), np.asarray(teacher_out[0]), atol=0.15)
    else:
        agree = np.mean(np.argmax(np.asarray(student_out), -1) == np.argmax(np.asarray(teacher_out), -1))
        assert agree > 0.9, agree


def test_a_loss_must_fit_the_teacher_and_the_action_space(tmp_path):
    path = teacher_file(tmp_path, "CartPole-v1", "q")
    with pytest.raises(
        ticketlab.core.errors.ConfigError,
        match=r"^bc.loss: cross_entropy distils a categorical teacher; "
        r"this expert is q \(allowed: huber_value\)$",
    ):
        bc.build(_config("CartPole-v1", "cross_entropy", path), make_env("CartPole-v1"), load_expert(path))
    cfg = dataclasses.replace(_config("CartPole-v1", "cross_entropy", path), out=str(tmp_path / "runs"))
    with pytest.raises(
        ticketlab.core.errors.ConfigError, match="^bc.loss: cross_entropy distils a categorical teacher"
    ):
        ticketlab.run(cfg)
    assert not (tmp_path / "runs").exists()  # refused before anything was written
    from ticketlab.experiments.validate import validate

    with pytest.raises(ticketlab.core.errors.ConfigError, match="^bc.loss: 'cross_entropy' does not fit Pendulum-v1's"):
        validate(_config("Pendulum-v1", "cross_entropy", path))


def test_a_gaussian_student_through_the_engine(tmp_path):
    path = teacher_file(tmp_path, "Pendulum-v1", "gaussian")
    cfg = dataclasses.replace(
        _config("Pendulum-v1", "kl_gaussian", path, epochs=2), seeds=1, levels=2, out=str(tmp_path / "runs")
    )
    run = ticketlab.run(cfg)
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *cfg.imp.conditions}
    assert all("actor/log_std" not in r["layer_density"] for r in rows)  # never pruned
    assert all(r["train_curve_kind"] == "distillation_loss" for r in rows)


# The host backend (PyBullet's): BC's one training function, lifted over a block of runs whose
# environments are Gymnasium's, stepped through host callbacks; a seed's data collected once.


def _host_pair(tmp_path, **bc_fields):
    """(cfg, BC on gymnax's Pendulum, BC on Gymnasium's, the host trainer, its data cache)."""
    expert = load_expert(teacher_file(tmp_path, "Pendulum-v1", "gaussian"))
    cfg = _config("Pendulum-v1", "kl_gaussian", expert.path, **bc_fields)
    host_spec = make_env("gymnasium:Pendulum-v1")
    host = bc.BC(cfg, host_spec, expert)  # (the expert plays gymnax's Pendulum: the same observations)
    agent = Agent(
        init=host.init,
        train=host.stages.train,
        env_steps=host.sizes.env_steps,
        rewind_update=0,
        program=host,
        num_envs=cfg.bc.num_envs,
        eval_episodes=cfg.bc.eval_episodes,
        stages=host.stages,
    )
    cache = {}
    return cfg, bc.BC(cfg, make_env("Pendulum-v1"), expert), host, bc.host_trainer(agent, host_spec, cache), cache


def _one(tree):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x)[None], tree)


def test_a_block_on_the_host_trains_as_the_compiled_program_does(tmp_path):
    """Given the same data, BC's stages lifted over a block (its evaluations on the host) train
    exactly as the compiled program vmapped over runs: same batches, same keys, same training
    curve. eval-every 7 of 20 batches per epoch puts evaluations inside epochs and across their
    boundaries."""
    cfg, compiled, _, host, cache = _host_pair(tmp_path, total_steps=2_000, epochs=3, batch_size=100, eval_every=7)
    params = compiled.init(jax.random.PRNGKey(0))
    mask = ones_mask(params)
    keys = RunKeys(jax.random.PRNGKey(1), jax.random.PRNGKey(2))
    gymnax = make_env("Pendulum-v1")
    want = program(compiled.stages.train, gymnax, cfg.bc.num_envs, cfg.bc.eval_episodes)(
        _one(keys), _one(params), _one(mask)
    )
    cache[bc.data_tag(keys.data)] = jax.tree_util.tree_map(
        lambda x: x[0], program(compiled.collect, gymnax, cfg.bc.num_envs, 1)(_one(keys.data))
    )
    got = host(_one(keys), _one(params), _one(mask))
    host.close()
    assert got.train_curve.shape == (1, compiled.sizes.cadence.num_evals) == (1, 9)
    # (other programs: XLA may fuse their float operations in another order)
    np.testing.assert_allclose(got.train_curve, want.train_curve, rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(got.final_params), jax.tree_util.tree_leaves(want.final_params)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got.data_digest, want.data_digest, rtol=1e-5)
    assert np.all(np.isfinite(got.eval_returns)) and got.eval_returns[0, -1] < 0  # Pendulum costs


def test_host_bc_data_are_the_experts_own_and_the_seeds_alone(tmp_path):
    _, compiled, student, host, cache = _host_pair(tmp_path, total_steps=400)
    _, _, _, again, _ = _host_pair(tmp_path, total_steps=400)
    params = student.init(jax.random.PRNGKey(0))

    def data(trainer, seed):
        keys = RunKeys(jax.random.PRNGKey(0), jax.random.PRNGKey(seed))
        obs, teacher_out, _ = trainer.begin(_one(keys), _one(params), _one(ones_mask(params))).derived
        return jax.tree_util.tree_map(lambda x: np.asarray(x[0]), (obs, teacher_out))

    obs, (mean, log_std) = data(host, 5)
    obs2, (mean2, _) = data(again, 5)
    assert obs.shape == (400, 3) and mean.shape == (400, 1)
    np.testing.assert_array_equal(obs, obs2)
    np.testing.assert_array_equal(mean, mean2)
    teacher_mean, teacher_log_std = bc.teacher_outputs(compiled.expert, make_env("Pendulum-v1"))(obs)
    np.testing.assert_allclose(mean, teacher_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_std, teacher_log_std, rtol=1e-6)
    first = cache[bc.data_tag(jax.random.PRNGKey(5))][0]
    other, _ = data(host, 6)
    assert not np.allclose(obs, other)
    # consecutive rows of one env (stride num_envs) follow Pendulum's dynamics: |theta dot| <= 8
    assert np.all(np.abs(obs[:, 2]) <= 8.0)
    data(host, 5)
    assert len(cache) == 2 and cache[bc.data_tag(jax.random.PRNGKey(5))][0] is first  # once per seed and process
    host.close()
    again.close()
