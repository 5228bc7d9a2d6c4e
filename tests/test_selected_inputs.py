"""Dense training on the inputs a ticket kept (selected_inputs.py, `ticketlab inputs`)."""

import json

import jax
import numpy as np
import pytest
from conftest import tiny_config

from ticketlab import cli
from ticketlab.experiments.experiment import run
from ticketlab.experiments.inputs_study import (
    ARMS,
    arm_inputs,
    check_study,
    kept_inputs,
    random_inputs,
    restrict_inputs,
    train_arms,
)
from ticketlab.store import files, paths
from ticketlab.store.rundir import prepare_run_dir


def test_kept_inputs_are_the_rows_with_a_surviving_connection():
    dense = np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 1]], bool)  # 4 inputs x 3 units
    assert kept_inputs({"dense_0": {"kernel": dense}, "dense_1": {"kernel": np.zeros((3, 2), bool)}}).tolist() == [
        False,
        True,
        False,
        True,
    ]
    conv = np.zeros((3, 3, 2, 4), bool)  # h, w, in channels, filters
    conv[1, 2, 1, 3] = True
    assert kept_inputs({"conv_0": {"kernel": conv}, "dense_0": {"kernel": np.ones((8, 2), bool)}}).tolist() == [
        False,
        True,
    ]


def test_restrict_inputs_cuts_every_modules_first_layer_only():
    mask = {
        "actor": {
            "dense_0": {"kernel": np.ones((3, 2), bool), "bias": np.ones(2, bool)},
            "dense_1": {"kernel": np.ones((2, 2), bool)},
        },
        "critic": {"conv_0": {"kernel": np.ones((2, 2, 3, 4), bool)}, "dense_0": {"kernel": np.ones((4, 1), bool)}},
        "log_std": np.ones(2, bool),
    }
    out = restrict_inputs(mask, np.array([True, False, True]))
    assert np.asarray(out["actor"]["dense_0"]["kernel"]).tolist() == [[True, True], [False, False], [True, True]]
    conv = np.asarray(out["critic"]["conv_0"]["kernel"])
    assert not conv[:, :, 1].any() and conv[:, :, [0, 2]].all()
    for kept in (
        out["actor"]["dense_0"]["bias"],
        out["actor"]["dense_1"]["kernel"],
        out["critic"]["dense_0"]["kernel"],
        out["log_std"],
    ):
        assert np.asarray(kept).all()


def test_random_inputs_draw_the_count_from_the_key():
    key = jax.random.PRNGKey(3)
    a, b = random_inputs(key, 10, 4), random_inputs(key, 10, 4)
    assert a.sum() == 4 and a.tolist() == b.tolist()
    draws = {tuple(np.flatnonzero(random_inputs(jax.random.PRNGKey(k), 10, 4))) for k in range(20)}
    assert len(draws) > 10
    arms = arm_inputs({"dense_0": {"kernel": np.array([[1, 0], [0, 0], [0, 1]], bool)}}, key)
    assert [int(arms[a].sum()) for a in ("all_inputs", "kept_inputs", "random_inputs")] == [3, 2, 2]


@pytest.mark.slow  # about 18 s: three dense arms trained; CI runs it in its second step
def test_each_arm_trains_on_its_inputs_alone(tmp_path):
    """On a real run: the kept arm sees the rows the ticket kept, and the cut rows of both first
    layers (actor and critic: the critic's are not prunable under actor-only pruning, so the IMP
    mask check would not catch a program that ignored them) stay exactly zero after training."""
    cfg = tiny_config(tmp_path / "runs", levels=2)
    run_dir = run(cfg)
    study = check_study(run_dir, 1, "mask_weights")
    _, jobs, out = train_arms(study)
    assert [(s, a) for s, a, _ in jobs] == [(s, a) for s in (0, 1) for a in ARMS]
    for i, (seed, arm, keep) in enumerate(jobs):
        ticket = kept_inputs(files.load_tree(paths.tree_file(run_dir, 1, seed, "mask_weights", "mask"))["actor"])
        assert keep.sum() == (4 if arm == "all_inputs" else ticket.sum())
        if arm == "kept_inputs":
            assert keep.tolist() == ticket.tolist()
        for module in ("actor", "critic"):
            for params in (out.best_params, out.final_params):
                kernel = np.asarray(params[module]["dense_0"]["kernel"][i])
                assert (kernel[~keep] == 0).all() and (kernel[keep] != 0).all()


@pytest.mark.slow
def test_inputs_command_trains_three_arms_once(tmp_path, capsys):
    run_dir = run(tiny_config(tmp_path / "runs", levels=2))
    assert cli.main(["inputs", str(run_dir), "--level", "1"]) == 0
    printed = capsys.readouterr().out
    results = run_dir / "inputs" / "mask_weights-level_01" / "results.json"
    assert (results.parent / "selected_inputs.png").exists() and str(results) in printed
    assert "all_inputs" in printed and "kept of 4:" in printed
    data = json.loads(results.read_text())
    assert data["seeds"] == [0, 1] and len(data["runs"]) == 6
    assert {r["arm"] for r in data["runs"]} == set(ARMS)
    first = results.read_bytes()
    assert cli.main(["inputs", str(run_dir), "--level", "1"]) == 0  # read back, not retrained
    assert results.read_bytes() == first


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--level", "5"], "level"),
        (["--level", "1"], "level"),
        (["--level", "1", "--condition", "snip"], "condition"),
        (["--level", "1", "--condition", "nope"], "condition"),
        ([], "level"),
        (["--level", "x"], "level"),
    ],
)
def test_inputs_bad_input_one_line(tmp_path, argv, field, capsys):
    """A run with its config written and no level finished: nothing to train on, nothing written."""
    cfg = tiny_config(tmp_path / "runs", levels=2)
    run_dir = paths.run_dir(cfg)
    prepare_run_dir(run_dir, cfg)
    assert cli.main(["inputs", str(run_dir), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"error: {field}" in err
    assert not (run_dir / "inputs").exists()
