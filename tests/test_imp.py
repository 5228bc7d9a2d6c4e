"""IMP invariants per level, on a tiny Cart-Pole run through the real driver and store."""

import csv
import dataclasses

import jax
import numpy as np
import pytest
from conftest import tiny_config

from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.pruning.conditions import DENSE
from ticketlab.pruning.magnitude import count_after_levels
from ticketlab.store import files, paths

CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit", "mask_reinit")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("imp")
    cfg = tiny_config(out / "runs", levels=4)
    cfg = dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, conditions=CONDITIONS))
    return cfg, run_experiment(cfg)


def tree(run, level, seed, condition, kind):
    return files.load_tree(paths.tree_file(run, level, seed, condition, kind))


def leaves(t):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(t)]


def actor_kernels(t):
    return [np.asarray(t["actor"][n]["kernel"]) for n in sorted(t["actor"])]


def chain(level, condition):
    return DENSE if level == 0 else condition


def test_density_follows_0_8_power(finished):
    cfg, run = finished
    total = 4 * 64 + 64 * 64 + 64 * 2
    for level in range(cfg.levels):
        for c in CONDITIONS:
            for seed in range(cfg.seeds):
                mask = tree(run, level, seed, chain(level, c), "mask")
                kept = sum(int(k.sum()) for k in actor_kernels(mask))
                assert kept == count_after_levels(total, 0.2, level, cfg.imp.prune_count)
                assert abs(kept / total - 0.8**level) < 0.01
                assert all(m.dtype == bool for m in leaves(mask))
                assert all(m.all() for m in leaves(mask["critic"]))  # actor-only pruning


def test_ticket_masks_are_nested(finished):
    cfg, run = finished
    for seed in range(cfg.seeds):
        for c in ("mask_weights", "mask_permuted", "mask_reinit"):
            for level in range(1, cfg.levels):
                new, old = (
                    leaves(tree(run, level, seed, c, "mask")),
                    leaves(tree(run, level - 1, seed, chain(level - 1, c), "mask")),
                )
                assert all(not np.any(n & ~o) for n, o in zip(new, old))


def test_start_equals_mask_times_init(finished):
    cfg, run = finished
    for seed in range(cfg.seeds):
        init = leaves(tree(run, 0, seed, DENSE, "start"))
        for level in range(1, cfg.levels):
            mask = leaves(tree(run, level, seed, "mask_weights", "mask"))
            start = leaves(tree(run, level, seed, "mask_weights", "start"))
            for s, i, m in zip(start, init, mask):
                np.testing.assert_array_equal(s, np.where(m, i, 0.0))


def test_permuted_conditions_keep_layer_counts(finished):
    cfg, run = finished
    for seed in range(cfg.seeds):
        for level in range(1, cfg.levels):
            imp = global_imp_mask(run, level, seed, "permuted_permuted")
            got = actor_kernels(tree(run, level, seed, "permuted_permuted", "mask"))
            assert [int(k.sum()) for k in got] == [int(k.sum()) for k in imp]


def global_imp_mask(run, level, seed, condition):
    from ticketlab.pruning.magnitude import global_magnitude_mask
    from ticketlab.pruning.masks import prunable_tree

    best = tree(run, level - 1, seed, chain(level - 1, condition), "best")
    prev = tree(run, level - 1, seed, chain(level - 1, condition), "mask")
    keep = sum(int(k.sum()) for k in actor_kernels(tree(run, level, seed, condition, "mask")))
    return actor_kernels(global_magnitude_mask(best, prev, prunable_tree(best, "actor"), keep))


def test_pruned_weights_are_zero_in_trained_params(finished):
    cfg, run = finished
    for level in range(cfg.levels):
        for c in CONDITIONS:
            mask = leaves(tree(run, level, 0, chain(level, c), "mask"))
            best = leaves(tree(run, level, 0, chain(level, c), "best"))
            for m, b in zip(mask, best):
                assert np.all(b[~m] == 0.0)


def test_results_csv_and_metrics(finished):
    cfg, run = finished
    with open(paths.results_csv(run)) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == cfg.seeds * (1 + len(CONDITIONS) * (cfg.levels - 1))
    assert {r["condition"] for r in rows} == {DENSE, *CONDITIONS}
    m = files.load_json(paths.metrics_file(run, 2, 1, "mask_weights"))
    assert len(m["input_layer"]["actor"]["kept"]) == 4
    w = tree(run, 2, 1, "mask_weights", "best")["actor"]["dense_0"]["kernel"]
    np.testing.assert_allclose(m["input_layer"]["actor"]["magnitude"], np.abs(w).sum(axis=1), rtol=1e-5)


def test_late_rewinding_starts_from_rewind_point(tmp_path):
    cfg = tiny_config(tmp_path / "runs", levels=2)
    cfg = dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, rewind_steps=256, conditions=("mask_weights",)))
    run = run_experiment(cfg)
    rewind = leaves(tree(run, 0, 0, DENSE, "rewind"))
    init = leaves(tree(run, 0, 0, DENSE, "start"))
    assert any(np.any(r != i) for r, i in zip(rewind, init))
    mask = leaves(tree(run, 1, 0, "mask_weights", "mask"))
    start = leaves(tree(run, 1, 0, "mask_weights", "start"))
    for s, r, m in zip(start, rewind, mask):
        np.testing.assert_array_equal(s, np.where(m, r, 0.0))


def test_figures_come_from_the_store_alone(finished):
    from ticketlab.reporting.plots import plot_run

    _, run = finished
    pngs = plot_run(run)
    assert [p.name for p in pngs] == [
        "ticket.png",
        "input_dimensions.png",
        "layer_density.png",
        "plasticity.png",
        "mask_overlap.png",
    ]
    for png in pngs:
        assert png.stat().st_size > 10_000 and png.with_suffix(".pdf").exists()


def test_compare_overlays_runs_in_percent_and_absolute_weights(finished, tmp_path):
    from ticketlab.reporting.plots.compare import compare_runs

    _, run = finished
    for x in ("percent", "weights"):
        png = compare_runs([run, run], tmp_path / f"cmp_{x}", ("mask_weights", "permuted_permuted"), x)
        assert png.stat().st_size > 10_000 and png.with_suffix(".pdf").exists()


def test_prune_count_round_flows_into_every_condition(tmp_path):
    """`--imp.prune-count round` (PyTorch's count): at level 3, 573 of the 2,867 survivors go
    (0.2 x 2,867 = 573.4) where ceil removes 574."""
    cfg = tiny_config(tmp_path / "runs", seeds=1, levels=4)
    cfg = dataclasses.replace(
        cfg, imp=dataclasses.replace(cfg.imp, prune_count="round", conditions=("mask_weights", "random_reinit"))
    )
    run = run_experiment(cfg)
    total = 4 * 64 + 64 * 64 + 64 * 2
    assert count_after_levels(total, 0.2, 3, "round") == count_after_levels(total, 0.2, 3) + 1
    for level in range(cfg.levels):
        for c in cfg.imp.conditions:
            kept = sum(int(k.sum()) for k in actor_kernels(tree(run, level, 0, chain(level, c), "mask")))
            assert kept == count_after_levels(total, 0.2, level, "round"), (level, c)
