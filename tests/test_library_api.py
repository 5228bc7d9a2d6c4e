"""ticketlab as a library (issue 10): `find_tickets` around a training function of the user's own,
the masked optax wrapper, the mask check, worker processes importing the user's functions, and
TensorBoard / W&B logging."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from user_train import regression

import ticketlab
from ticketlab.core.errors import ConfigError, MaskError
from ticketlab.pruning.magnitude import count_after_levels, global_magnitude_mask
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import purejaxrl_ppo  # noqa: E402  (the example of docs/extending.md)


def leaves(t):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(t)]


def test_masked_keeps_pruned_weights_and_their_adam_moments_exactly_zero():
    key = jax.random.PRNGKey(0)
    params = {"w": jax.random.normal(key, (6, 5)), "b": jnp.ones(5)}
    mask = {"w": jax.random.uniform(jax.random.PRNGKey(1), (6, 5)) > 0.5, "b": jnp.ones(5, bool)}
    params = ticketlab.apply_mask(params, mask)
    tx = ticketlab.masked(optax.chain(optax.add_decayed_weights(0.1), optax.adam(0.1)), mask)
    state = tx.init(params)
    start = params
    for i in range(20):  # gradients that are nonzero everywhere, pruned positions too
        grads = jax.tree_util.tree_map(lambda x: jax.random.normal(jax.random.PRNGKey(10 + i), x.shape), params)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    pruned = ~np.asarray(mask["w"])
    assert np.all(np.asarray(params["w"])[pruned] == 0.0)
    adam = state[1][0]
    assert np.all(np.asarray(adam.mu["w"])[pruned] == 0.0) and np.all(np.asarray(adam.nu["w"])[pruned] == 0.0)
    assert np.all(np.asarray(params["w"])[~pruned] != np.asarray(start["w"])[~pruned])
    plain = optax.chain(optax.add_decayed_weights(0.1), optax.adam(0.1))  # the same without the wrapper regrows
    updates, _ = plain.update(grads, plain.init(start), start)
    assert np.any(np.asarray(optax.apply_updates(start, updates)["w"])[pruned] != 0.0)


def find(tmp_path, **kw):
    options = dict(
        init=regression.init,
        train=regression.train,
        prune=["actor"],
        seeds=2,
        levels=3,
        input_names=["a", "b", "c", "d"],
        out=str(tmp_path / "runs" / "regression"),
        return_floor=-5.0,
    )
    options.update(kw)
    return ticketlab.find_tickets(**options)


def test_find_tickets_runs_the_engines_conditions_on_the_same_store(tmp_path, capsys):
    run = find(tmp_path)
    assert run.parent == tmp_path / "runs" and run.name.startswith("regression-")
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *ticketlab.PAPER_CONDITIONS}
    total = 4 * 16 + 16 * 2
    for level in (1, 2):
        for condition in ticketlab.PAPER_CONDITIONS:
            mask = files.load_tree(paths.tree_file(run, level, 0, condition, "mask"))
            kernels = [mask["actor"][n]["kernel"] for n in ("dense_0", "dense_1")]
            assert sum(int(k.sum()) for k in kernels) == count_after_levels(total, 0.2, level)
            assert all(np.all(mask["actor"][n]["bias"]) for n in ("dense_0", "dense_1"))  # biases are not pruned
    init = files.load_tree(paths.tree_file(run, 0, 0, "dense", "start"))
    mask = files.load_tree(paths.tree_file(run, 2, 0, "mask_weights", "mask"))
    start = files.load_tree(paths.tree_file(run, 2, 0, "mask_weights", "start"))
    for s, i, m in zip(leaves(start), leaves(init), leaves(mask)):
        np.testing.assert_array_equal(s, np.where(m, i, 0.0))
    assert rows[0]["input_layer"]["actor"]["kept"] == [16, 16, 16, 16]
    figures = ticketlab.plot(run)
    assert run / "figures" / "input_dimensions.png" in figures
    ticketlab.report(run)
    assert "mask/weights" in capsys.readouterr().out
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*.safetensors")}
    assert find(tmp_path) == run  # resumed: nothing is trained or rewritten
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*.safetensors")} == before


def test_other_settings_get_their_own_run_and_bad_options_one_line(tmp_path):
    a = find(tmp_path, levels=1, settings={"lr": 0.03})
    b = find(tmp_path, levels=1, settings={"lr": 0.01})
    assert a != b and a.name.startswith("regression-") and b.name.startswith("regression-")
    with pytest.raises(ConfigError, match=r"^imp.conditions: unknown 'tickets'; allowed: mask_weights"):
        find(tmp_path, conditions=["tickets"])
    with pytest.raises(ConfigError, match=r"^custom.loss: snip differentiate a loss on a batch; pass loss="):
        find(tmp_path, conditions=["mask_weights", "snip"])
    with pytest.raises(ConfigError, match=r"^workers: worker processes import your functions by name"):
        find(tmp_path, train=lambda k, p, m: regression.train(k, p, m), workers=2)


def test_a_train_that_forgets_the_mask_is_refused_naming_the_leaves(tmp_path):
    with pytest.raises(MaskError) as e:
        find(tmp_path, train=regression.train_forgetting_the_mask)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(
        "train: pruned weights are nonzero after training (level 1, seed 0, mask_weights) "
        "in actor/dense_0/kernel, actor/dense_1/kernel;"
    )
    run = next((tmp_path / "runs").glob("regression-*"))
    assert not paths.level_dir(run, 1).exists() or not list(paths.level_dir(run, 1).rglob("*.safetensors"))


def test_snip_and_grasp_differentiate_the_users_loss(tmp_path):
    run = find(tmp_path, loss=regression.loss, conditions=["mask_weights", "snip", "grasp"], seeds=1)
    masks = [files.load_tree(paths.tree_file(run, 2, 0, c, "mask")) for c in ("mask_weights", "snip", "grasp")]
    assert len({tuple(np.concatenate([m.ravel() for m in leaves(x)])) for x in masks}) == 3


@pytest.mark.slow
def test_workers_import_the_users_functions_and_give_the_same_bits(tmp_path):
    one = find(tmp_path / "one", workers=1)
    two = find(tmp_path / "two", workers=2)
    for a in sorted(one.rglob("*.safetensors")):
        b = two / a.relative_to(one)
        for x, y in zip(leaves(files.load_tree(a)), leaves(files.load_tree(b))):
            np.testing.assert_array_equal(x, y)


def test_the_purejaxrl_example_finds_its_ticket_at_a_tiny_budget(tmp_path):
    cfg = dict(purejaxrl_ppo.CONFIG, total_timesteps=4096, eval_every=2, eval_episodes=2)
    run = ticketlab.find_tickets(
        init=purejaxrl_ppo.make_init(cfg),
        train=purejaxrl_ppo.make_train(cfg),
        prune=["actor"],
        seeds=2,
        levels=3,
        input_names=["cart position", "cart velocity", "pole angle", "pole angular velocity"],
        out=str(tmp_path / "runs" / "purejaxrl-ppo"),
        settings=cfg,
        log=["tensorboard"],
    )
    rows = load_metrics(run)
    assert len(rows) == 2 + 2 * 2 * 4
    assert all(9.0 <= r["best_return"] <= 500.0 for r in rows)
    assert all(len(r["eval_returns"]) == 4 for r in rows)  # 8 updates, evaluated every 2
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    steps = [(e.step, e.value) for e in events.Scalars("mask_weights/best_return")]
    want = [
        np.mean([r["best_return"] for r in rows if r["condition"] == "mask_weights" and r["level"] == lv])
        for lv in (1, 2)
    ]
    assert [s for s, _ in steps] == [1, 2]
    np.testing.assert_allclose([v for _, v in steps], want, rtol=1e-6)
    assert "mask_weights/inputs/actor/pole_angle/kept" in events.Tags()["scalars"]
    assert "dense/layer_density/actor/dense_0/kernel" in events.Tags()["scalars"]


@pytest.mark.slow
def test_a_custom_run_plots_from_the_command_line(tmp_path):
    run = find(tmp_path, levels=2)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-m", "ticketlab.cli", "plot", str(run)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (run / "figures" / "ticket.png").exists()
    for argv in (["status", str(run)], ["compare", str(run), str(run), "--out", str(tmp_path / "cmp.png")]):
        done = subprocess.run(
            [sys.executable, "-m", "ticketlab.cli", *argv], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (argv, done.stderr[-2000:])
    assert (tmp_path / "cmp.png").exists()
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["algo"] == "custom" and config["custom"]["train"] == "user_train.regression:train"


def test_wandb_logs_offline_by_default(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for var in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    run = find(tmp_path, levels=2, seeds=1, log=["wandb"])
    offline = list((run / "wandb").glob("offline-run-*"))
    assert len(offline) == 1 and list(offline[0].glob("*.wandb"))


@pytest.mark.parametrize("scheme", ["torch-default", "kaiming-normal"])
def test_inits_one_call_per_key_equal_the_vmapped_init(scheme):
    """init_batch compiles one init per key (a vmapped init with LAPACK calls could hang, so the
    orthogonal scheme is not run vmapped here); the values, and so every stored run, are those of
    the vmapped init it replaced."""
    from ticketlab.imp.program import build

    cfg = ticketlab.preset("cartpole-ppo")
    cfg = dataclasses.replace(cfg, init=dataclasses.replace(cfg.init, scheme=scheme))
    exp = build(cfg)
    keys = [jax.random.PRNGKey(i) for i in range(3)]
    for a, b in zip(leaves(exp.init_batch(keys)), leaves(jax.jit(jax.vmap(exp.agent.init))(jnp.stack(keys)))):
        np.testing.assert_array_equal(a, b)


def test_a_training_function_of_your_own_runs_rigl_through_the_wrapper(tmp_path):
    run = find(tmp_path, train=regression.train_rigl, conditions=["mask_weights"], seeds=1, levels=2)
    total = 4 * 16 + 16 * 2
    mask = files.load_tree(paths.tree_file(run, 1, 0, "mask_weights", "mask"))["actor"]
    best = files.load_tree(paths.tree_file(run, 1, 0, "mask_weights", "best"))["actor"]
    assert sum(int(mask[n]["kernel"].sum()) for n in ("dense_0", "dense_1")) == count_after_levels(total, 0.2, 1)
    for n in ("dense_0", "dense_1"):
        assert not np.any(np.asarray(best[n]["kernel"])[~np.asarray(mask[n]["kernel"])])
    dense_best = files.load_tree(paths.tree_file(run, 0, 0, "dense", "best"))
    imp = global_magnitude_mask(
        dense_best,
        jax.tree_util.tree_map(lambda x: np.ones(np.shape(x), bool), dense_best),
        regression.PRUNABLE,
        count_after_levels(total, 0.2, 1),
    )["actor"]
    moved = sum(
        int(np.sum(np.asarray(mask[n]["kernel"]) != np.asarray(imp[n]["kernel"]))) for n in ("dense_0", "dense_1")
    )
    assert moved > 0  # RigL moved connections away from the mask IMP handed it


def test_the_sparse_methods_refuse_a_training_function_of_your_own_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"^imp.conditions: rigl change the mask between the steps of a training"):
        find(tmp_path, conditions=["rigl"])
    assert not (tmp_path / "runs").exists()
