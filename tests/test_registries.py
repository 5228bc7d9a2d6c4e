"""Registries: fixed condition ids pin every run's random keys; a user's environment registered
from their own module runs by id through the Python API and the command line; pruning scores
are one entry each (SNIP given the agent's own loss on a batch)."""

import dataclasses
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import one_run, tiny_config

import ticketlab
from ticketlab.core.errors import ConfigError
from ticketlab.imp.keys import TRAIN, run_key
from ticketlab.pruning.conditions import CONDITIONS, Condition, register_condition
from ticketlab.pruning.scores import SCORES
from ticketlab.reporting.plots import plot_run
from ticketlab.store.results import load_metrics

USER_ENVS = Path(__file__).parent / "user_envs"

PINNED_KEYS = {  # run_key(3, condition, 2, TRAIN): changing any of these changes every existing run
    "dense": [2521405355, 3072331675],
    "mask_weights": [3498633132, 1595563303],
    "mask_permuted": [932557629, 3671128911],
    "permuted_permuted": [3385829605, 3116224479],
    "random_reinit": [2287404773, 414995157],
    "mask_reinit": [377226656, 3309440147],
}


@pytest.mark.parametrize("condition", list(PINNED_KEYS))
def test_condition_keys_are_pinned(condition):
    assert np.asarray(run_key(3, condition, 2, TRAIN)).tolist() == PINNED_KEYS[condition]
    ids = {
        "dense": 1000,
        "mask_weights": 0,
        "mask_permuted": 1,
        "permuted_permuted": 2,
        "random_reinit": 3,
        "mask_reinit": 4,
    }
    key = jax.random.PRNGKey(3)
    for value in (ids[condition], 2, TRAIN):
        key = jax.random.fold_in(key, value)
    assert np.asarray(key).tolist() == PINNED_KEYS[condition]


def test_a_new_condition_cannot_take_an_existing_id():
    with pytest.raises(ValueError, match="id 2 is taken"):
        register_condition(Condition("mine", 2, CONDITIONS.get("mask_weights").derive, "mine", "black"))
    assert "mine" not in CONDITIONS
    with pytest.raises(ValueError, match=r"^condition source 'trained'; allowed: chain, dense, init$"):
        register_condition(
            Condition("mine", 99, CONDITIONS.get("mask_weights").derive, "mine", "black", source="trained")
        )
    assert "mine" not in CONDITIONS


def test_unknown_names_give_one_line_errors():
    with pytest.raises(ConfigError, match=r"^env.name: unknown 'Nope-v0'; allowed: MazeGrid-v0, "):
        ticketlab.make_env("Nope-v0")
    with pytest.raises(ConfigError, match=r"^imp.score: unknown 'x'; allowed: magnitude, snip, grasp$"):
        SCORES.get("x")


def _corridor_config(out, **overrides):
    cfg = tiny_config(
        out, seeds=1, levels=2, env=dataclasses.replace(tiny_config(out).env, name="Corridor-v0", module="corridor")
    )
    return dataclasses.replace(cfg, **overrides)


def test_a_user_environment_runs_by_id_through_the_python_api(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(USER_ENVS))
    cfg = _corridor_config(tmp_path / "runs", ppo=dataclasses.replace(tiny_config(tmp_path).ppo, total_steps=4096))
    run = ticketlab.run(cfg)
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *cfg.imp.conditions}
    dense = [r for r in rows if r["level"] == 0][0]
    assert dense["best_return"] > 0.5  # reaches the end of the corridor (a random walk rarely does in 40 steps)
    assert ticketlab.make_env("Corridor-v0").obs_names == ("position", "noise")
    assert run / "figures" / "input_dimensions.png" in plot_run(run)


@pytest.mark.slow  # end to end through the CLI; test_a_user_environment_runs_by_id_through_the_python_api keeps the registry path fast
def test_a_user_environment_runs_from_the_command_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(USER_ENVS), os.environ.get("PYTHONPATH", "")]))
    args = [
        sys.executable,
        "-m",
        "ticketlab.cli",
        "run",
        "cartpole-ppo",
        "--env.module",
        "corridor",
        "--env.name",
        "Corridor-v0",
        "--seeds",
        "1",
        "--levels",
        "2",
        "--ppo.total-steps",
        "1024",
        "--ppo.eval-every",
        "4",
        "--ppo.eval-episodes",
        "2",
        "--out",
        str(tmp_path / "runs"),
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Corridor-v0" in (next((tmp_path / "runs").glob("cartpole-ppo-*")) / "config.json").read_text()
    bad = subprocess.run(
        args[:5] + ["--env.module", "no_such_module_xyz"], env=env, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2
    assert (
        bad.stderr.strip()
        .splitlines()[-1]
        .startswith("ticketlab: error: env.module: cannot import 'no_such_module_xyz'")
    )


def test_snip_scores_are_the_product_of_gradient_and_weight():
    w = {"a": {"kernel": jnp.array([[1.0, -2.0], [3.0, 0.5]])}}
    g = {"a": {"kernel": jnp.array([[0.5, 0.5], [-0.1, 4.0]])}}
    np.testing.assert_allclose(SCORES.get("snip").fn(w, {"grad": g})["a"]["kernel"], [[0.5, 1.0], [0.3, 2.0]])
    np.testing.assert_allclose(SCORES.get("magnitude").fn(w, {})["a"]["kernel"], [[1.0, 2.0], [3.0, 0.5]])
    np.testing.assert_allclose(
        SCORES.get("grasp").fn(w, {"hessian_grad": g})["a"]["kernel"], [[0.5, -1.0], [-0.3, 2.0]]
    )


@pytest.mark.slow  # about 21 s: two IMP runs; CI runs it in its second step
def test_a_snip_run_prunes_by_its_own_score(tmp_path):
    base = tiny_config(
        tmp_path / "runs",
        seeds=1,
        levels=2,
        imp=dataclasses.replace(tiny_config(tmp_path).imp, conditions=("mask_weights",)),
    )
    snip = dataclasses.replace(base, imp=dataclasses.replace(base.imp, score="snip"))
    runs = [ticketlab.run(cfg) for cfg in (base, snip)]
    from ticketlab.store import files

    masks = [files.load_tree(r / "levels" / "level_01" / "seed_0" / "mask_weights" / "mask.safetensors") for r in runs]
    dense = [files.load_tree(r / "levels" / "level_00" / "seed_0" / "dense" / "best.safetensors") for r in runs]
    for a, b in zip(jax.tree_util.tree_leaves(dense[0]), jax.tree_util.tree_leaves(dense[1])):
        np.testing.assert_array_equal(a, b)  # the same dense run
    kept = [sum(int(np.sum(m["actor"][k]["kernel"])) for k in m["actor"]) for m in masks]
    assert kept[0] == kept[1]  # the same count ...
    assert any(np.any(masks[0]["actor"][k]["kernel"] != masks[1]["actor"][k]["kernel"]) for k in masks[0]["actor"])


def test_the_batch_loss_treats_its_rollout_as_data():
    """SNIP's gradient is that of the PPO loss on a fixed batch: the rollout that produced the batch
    (actions, old log-probabilities, advantages) is not differentiated."""
    from ticketlab.agents.output import RunKeys
    from ticketlab.agents.ppo import PPO
    from ticketlab.pruning.masks import ones_mask

    ppo = PPO(tiny_config("unused"), ticketlab.make_env("CartPole-v1"))
    params = ppo.init(jax.random.PRNGKey(0))
    mask = ones_mask(params)
    key, data_key = jax.random.PRNGKey(1), jax.random.PRNGKey(2)
    got = jax.jit(jax.grad(partial(ppo.batch_loss, one_run(ppo)), argnums=2))(key, data_key, params, mask)

    @jax.jit
    def want_grad(params):  # the loss's gradient with the rollout computed apart, as data
        runner = ppo.first_runner(one_run(ppo), RunKeys(train=key, data=data_key), params, mask)
        runner, (traj, final_obs) = ppo.rollout(one_run(ppo), runner, mask, None)
        advantages, targets = ppo.advantages(params, mask, None, traj, final_obs, runner.obs)
        flat = jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:]), (traj, advantages, targets))
        return jax.grad(ppo.loss)(params, mask, None, *flat)

    want = want_grad(params)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)


def test_the_plot_floor_comes_from_the_registry_under_any_alias():
    """`--env.name acrobot` is Acrobot-v1: a failed agent (-500) must plot at 0, not at 6.25x dense."""
    from ticketlab.reporting.plots.common import run_spec
    from ticketlab.reporting.plots.ticket import normalizer

    rows = [{"level": 0, "best_return": -80.0}, {"level": 1, "best_return": -500.0}]
    for name in ("acrobot", "Acrobot-v1"):
        cfg = dataclasses.replace(
            ticketlab.preset("acrobot-ppo"), env=dataclasses.replace(ticketlab.preset("acrobot-ppo").env, name=name)
        )
        norm = normalizer(rows, run_spec(cfg).return_floor)
        assert norm(rows[0]) == 1.0 and norm(rows[1]) == 0.0
    assert ticketlab.make_env("mazegrid").return_floor == -12.0  # 12 poisons
