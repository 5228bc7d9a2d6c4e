"""Mask overlap between seeds and against the ticket, by hand on masks written to a store."""

import numpy as np
import pytest

from ticketlab.reporting.analysis.mask_overlap import ALL, chance, jaccard, overlap_rows
from ticketlab.store import files, paths


def test_jaccard_and_chance():
    a = np.array([1, 1, 0, 0, 1], bool)
    b = np.array([1, 0, 1, 0, 1], bool)
    assert jaccard(a, b) == pytest.approx(2 / 4)
    assert chance(0.5) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    d = 0.2
    sim = np.mean([jaccard(rng.random(20000) < d, rng.random(20000) < d) for _ in range(20)])
    assert sim == pytest.approx(chance(d), rel=0.05)  # two independent random masks


def test_overlap_rows_between_seeds_and_against_the_ticket(tmp_path):
    masks = {
        ("mask_weights", 0): [[1, 1, 0, 0]],
        ("mask_weights", 1): [[1, 0, 1, 0]],
        ("rigl", 0): [[1, 1, 0, 0]],
        ("rigl", 1): [[0, 1, 0, 1]],
    }
    rows = []
    for (condition, seed), kernel in masks.items():
        tree = {"actor": {"dense_0": {"kernel": np.array(kernel, bool), "bias": np.ones(4, bool)}}}
        files.save_tree(paths.tree_file(tmp_path, 1, seed, condition, "mask"), tree)
        rows.append({"level": 1, "seed": seed, "condition": condition, "density": 0.5, "input_layer": {"actor": {}}})
    out = {(o["condition"], o["kind"], o["layer"]): o for o in overlap_rows(tmp_path, rows)}
    assert out[("mask_weights", "seeds", ALL)]["jaccard"] == pytest.approx(1 / 3)
    assert out[("rigl", "seeds", "dense_0")]["jaccard"] == pytest.approx(1 / 3)
    # rigl against the ticket: seed 0 identical (1), seed 1 {1, 3} vs {0, 2}: 0
    assert out[("rigl", "ticket", ALL)]["jaccard"] == pytest.approx(0.5) and out[("rigl", "ticket", ALL)]["n"] == 2
    assert ("mask_weights", "ticket", ALL) not in out
