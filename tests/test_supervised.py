"""The supervised sanity check (algo supervised, presets digits-mlp and mnist-mlp; paper figure 1
left): accuracy and loss by hand, the fixed split, a real on-disk IMP run through the engine, rim
pixels pruned before centre pixels, and one-line errors."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("sklearn")  # the [supervised] extra (part of [test])

from ticketlab.agents.supervised import accuracy, label_cross_entropy  # noqa: E402
from ticketlab.cli.play import trained_policy  # noqa: E402
from ticketlab.core.errors import ConfigError  # noqa: E402
from ticketlab.envs.datasets import DATASETS, Dataset, held_out_indices, load_split, require, split  # noqa: E402
from ticketlab.experiments.experiment import run as run_experiment  # noqa: E402
from ticketlab.experiments.validate import validate  # noqa: E402
from ticketlab.presets import preset  # noqa: E402
from ticketlab.reporting.analysis.images import pixel_maps  # noqa: E402
from ticketlab.store import files, paths  # noqa: E402
from ticketlab.store.results import load_metrics  # noqa: E402


def test_accuracy_and_loss_match_a_hand_computation():
    logits = jnp.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    labels = jnp.array([0, 1, 2, 2])
    assert float(accuracy(logits, labels)) == 75.0  # rows 0, 1 and 3 right; row 2 says 0, not 2
    x = np.asarray(logits, float)
    by_hand = [np.log(np.exp(row).sum()) - row[y] for row, y in zip(x, [0, 1, 2, 2])]
    np.testing.assert_allclose(np.asarray(label_cross_entropy(labels, logits)), by_hand, rtol=1e-5)


def test_split_is_every_fifth_sample_of_each_class_and_fixed():
    labels = np.array([0, 1] * 6 + [1] * 4)  # class 0 at 0, 2, ..., 10; class 1 at 1, 3, ..., 11, 12..15
    assert held_out_indices(labels, 0.2).tolist() == [8, 9, 15]  # class 0's 5th; class 1's 5th and 10th

    images, targets = DATASETS.get("digits").load()
    first = load_split("digits", 0.2)
    again = split(images.reshape(-1, 8, 8, 1), targets, 0.2)  # recomputed from the raw data, not the cache
    for a, b in zip(dataclasses.astuple(first), dataclasses.astuple(again)):
        np.testing.assert_array_equal(a, b)
    expected = np.sort(np.concatenate([np.flatnonzero(targets == c)[4::5] for c in range(10)]))
    assert held_out_indices(targets, 0.2).tolist() == expected.tolist()
    assert (len(first.train_y), len(first.test_y)) == (1442, 355)
    assert first.train_x.shape == (1442, 8, 8, 1) and first.train_x.dtype == np.uint8
    for c in range(10):  # stratified: each class gives a fifth (rounded down) of its samples
        assert (first.test_y == c).sum() == (targets == c).sum() // 5


def tiny_digits(out, **imp) -> object:
    """digits-mlp, small: a 32,16 MLP, 2 seeds x 2 levels, 3 epochs, the test accuracy every 12 steps."""
    base = preset("digits-mlp")
    return dataclasses.replace(
        base,
        seeds=2,
        levels=2,
        out=str(out),
        network=dataclasses.replace(base.network, actor_hidden=(32, 16)),
        supervised=dataclasses.replace(base.supervised, epochs=3, eval_every=12),
        imp=dataclasses.replace(base.imp, **imp),
    )


def test_tiny_imp_run_writes_binary_masks_and_exact_zeros(tmp_path):
    """Two levels, the IMP mask and a random one (each level's compilation is most of the ~8 s)."""
    cfg = tiny_digits(tmp_path / "runs", prune_fraction=0.5, conditions=("mask_weights", "random_reinit"))
    run = run_experiment(cfg)
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *cfg.imp.conditions}
    assert {r["level"] for r in rows} == {0, 1}
    assert all(0.0 <= r["best_return"] <= 100.0 for r in rows)
    assert np.mean([r["best_return"] for r in rows if r["level"] == 0]) > 30.0  # 72 steps: well above chance (10)
    assert all(r["train_curve_kind"] == "cross_entropy" and r["env_steps"] == 1442 for r in rows)
    for r in rows:
        if r["level"] == 0:
            continue
        mask = files.load_tree(paths.tree_file(run, r["level"], r["seed"], r["condition"], "mask"))
        best = files.load_tree(paths.tree_file(run, r["level"], r["seed"], r["condition"], "best"))
        for name in ("dense_0", "dense_1", "dense_2"):
            m, w = np.asarray(mask["actor"][name]["kernel"]), np.asarray(best["actor"][name]["kernel"])
            assert m.dtype == np.bool_ or set(np.unique(m)) <= {0, 1}
            assert (w[~m.astype(bool)] == 0).all()
        assert abs(r["density"] - 0.5 ** r["level"]) < 0.01
    with pytest.raises(ConfigError, match="learnt the digits dataset .* play plays environments only"):
        trained_policy(run, 1, 0, "mask_weights")  # a classifier has no environment to act in


@pytest.mark.slow
def test_rim_pixels_lose_more_connections_than_centre_pixels(tmp_path):
    """A short real run to ~3 % of the weights: the image's outer ring keeps fewer first-layer
    connections per pixel than its central 4x4 (digits' blank left and right columns go first)."""
    base = preset("digits-mlp")
    cfg = dataclasses.replace(
        base,
        seeds=2,
        levels=6,
        out=str(tmp_path / "runs"),
        supervised=dataclasses.replace(base.supervised, epochs=5),
        imp=dataclasses.replace(base.imp, prune_fraction=0.5, conditions=("mask_weights",)),
    )
    rows = [r for r in load_metrics(run_experiment(cfg)) if r["level"] == cfg.levels - 1]
    kept = np.mean([pixel_maps(r, (8, 8, 1), "HWC")["kept"][0] for r in rows], axis=0)
    rim = np.ones((8, 8), bool)
    rim[1:-1, 1:-1] = False
    centre = np.zeros((8, 8), bool)
    centre[2:6, 2:6] = True
    assert kept[rim].mean() < 0.6 * kept[centre].mean(), kept.round()
    assert kept[:, 0].sum() == 0  # the column no digit ever inks


def test_bad_input_is_one_line(tmp_path):
    cfg = tiny_digits(tmp_path)
    cases = [
        (
            dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, name="CartPole-v1")),
            "env.name: unknown 'CartPole-v1'; allowed: digits, mnist",
        ),
        (
            dataclasses.replace(cfg, supervised=dataclasses.replace(cfg.supervised, test_fraction=1.0)),
            "supervised.test-fraction: must be in the open interval (0, 1), got 1.0",
        ),
        (
            dataclasses.replace(cfg, supervised=dataclasses.replace(cfg.supervised, batch_size=5000)),
            "supervised.batch-size: must be <= the 1442 training samples, got 5000",
        ),
        (
            dataclasses.replace(cfg, supervised=dataclasses.replace(cfg.supervised, lr=0.0)),
            "supervised.lr: must be > 0, got 0.0",
        ),
        (
            dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, activation="gelu")),
            "network.activation: unknown 'gelu'; allowed: tanh, relu",
        ),
    ]
    for bad, message in cases:
        with pytest.raises(ConfigError) as err:
            validate(bad)
        assert str(err.value) == message and "\n" not in str(err.value)
    absent = Dataset("absent", lambda: None, 8, 8, 10, 10, 1.0, "ticketlab_no_such_package", "a test")
    with pytest.raises(
        ConfigError,
        match=r"^env.name: dataset absent needs the supervised extra "
        r"\(ticketlab_no_such_package\): pip install -e \"\.\[supervised\]\"$",
    ):
        require(absent)
