"""Statistics of the ticket effect (analysis/ticket_stats.py) on hand-made metrics rows: the
95 %-of-dense sparsity number by hand, bootstrap intervals, sd with ddof = 1, failed chains."""

import math

import numpy as np
import pytest

from ticketlab.reporting.analysis.ticket_stats import (
    _run_mean,
    bootstrap_interval,
    chain_matrices,
    failed_count,
    format_retention,
    sample_sd,
    sparsest_reaching,
    stratified_resamples,
    ticket_stats,
    with_failures,
)
from ticketlab.reporting.progress import return_cell

DENSITIES = (1.0, 0.8, 0.64, 0.512, 0.4096)


def row(level, seed, condition, ret, status="ok"):
    return {
        "level": level,
        "seed": seed,
        "condition": "dense" if level == 0 else condition,
        "status": status,
        "best_return": None if status == "failed" else ret,
        "density": DENSITIES[level],
    }


def chain_rows(returns: dict[int, list[float]], condition="mask_weights"):
    """Rows of one condition: {level: [return of seed 0, seed 1, ...]} (level 0: the dense runs)."""
    return [row(lv, s, condition, r) for lv, rets in returns.items() for s, r in enumerate(rets)]


def test_sparsest_level_reaching_95_percent_of_dense_by_hand():
    # floor 10, dense mean 110 -> normalized (R - 10) / 100. Per-level means over the two seeds:
    # L1 (80 %): (98 + 94) / 200 = 0.96, L2 (64 %): (90 + 80) / 200 = 0.85, L3 (51.2 %): (97 + 95) / 200
    # = 0.96, L4 (40.96 %): (50 + 40) / 200 = 0.45. The sparsest level whose mean is >= 0.95 is L3 (the
    # dip at L2 does not matter): 51.2 %.
    rows = chain_rows({0: [100, 120], 1: [108, 104], 2: [100, 90], 3: [107, 105], 4: [60, 50]})
    stats = ticket_stats(rows, floor=10.0, reps=2000)
    assert stats.retention["mask_weights"].percent == pytest.approx(51.2)
    levels = {s.level: s.mean for s in stats.levels}
    assert levels == pytest.approx({0: 1.0, 1: 0.96, 2: 0.85, 3: 0.96, 4: 0.45})
    r = stats.retention["mask_weights"]
    assert r.low <= r.percent <= r.high and r.seeds == 2 and r.failed == 0
    # one level short of the threshold everywhere past dense: the dense network itself, 100 %
    assert sparsest_reaching(np.array([1.0, 0.9, 0.94]), np.array([100.0, 80.0, 64.0])) == 100.0
    assert sparsest_reaching(np.array([[1.0, 0.96, 0.2], [0.5, 0.5, 0.5]]), np.array([100.0, 80.0, 64.0])).tolist() == [
        80.0,
        100.0,
    ]


def test_the_sparsity_interval_resamples_whole_seeds():
    # seed 0 keeps the dense return down to 40.96 %, seed 1 collapses after level 1: the point estimate
    # (mean of both) stops at 80 %; resampling seeds gives both extremes, so the CI spans 40.96-80 %.
    rows = chain_rows({0: [100, 100], 1: [100, 100], 2: [100, 0], 3: [100, 0], 4: [100, 0]})
    r = ticket_stats(rows, floor=0.0, reps=4000).retention["mask_weights"]
    assert r.percent == pytest.approx(80.0)
    assert r.low == pytest.approx(40.96) and r.high == pytest.approx(80.0)
    assert format_retention(r) == "80% (41-80)"


def test_bootstrap_interval_contains_the_mean_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(3)
    widths = []
    for seeds in (4, 16, 64):
        scores = rng.normal(0.8, 0.2, size=(seeds, 1))
        mean, low, high = bootstrap_interval(scores, _run_mean, reps=4000)
        assert low[0] < mean[0] < high[0]
        assert mean[0] == pytest.approx(scores.mean())
        widths.append(high[0] - low[0])
    assert widths[0] > widths[1] > widths[2]
    # with 64 seeds the 95 % interval is about 2 x 1.96 x sd / sqrt(n) wide
    assert widths[2] == pytest.approx(2 * 1.96 * 0.2 / 8, rel=0.25)


def test_stratified_resamples_draw_within_each_task():
    scores = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])  # 3 runs x 2 tasks
    draws = stratified_resamples(scores, 500, np.random.default_rng(0))
    assert draws.shape == (500, 3, 2)
    assert set(np.unique(draws[:, :, 0])) == {0.0, 1.0, 2.0} and set(np.unique(draws[:, :, 1])) == {10.0, 11.0, 12.0}
    assert not np.array_equal(draws[:, :, 0] + 10, draws[:, :, 1])  # tasks are drawn independently


def test_matches_rliable_stratified_bootstrap():
    try:
        from rliable import library as rly
    except ImportError as err:  # its one known cause: rliable 1.2.0 needs arch < 8, which needs pandas < 3
        pytest.skip(
            f"rliable does not import ({err}): rliable 1.2.0 needs arch < 8, which does not import with "
            "pandas >= 3; pip install -e '.[test]' pins pandas < 3"
        )
    scores = np.random.default_rng(7).normal(size=(10, 3))
    mean = lambda batch: batch.mean(axis=(-2, -1))  # noqa: E731
    point, low, high = bootstrap_interval(scores, mean, reps=50_000)
    points, intervals = rly.get_interval_estimates(
        {"a": scores}, lambda x: np.array([x.mean()]), reps=50_000, random_state=np.random.RandomState(0)
    )
    assert point == pytest.approx(points["a"][0])
    width = intervals["a"][1, 0] - intervals["a"][0, 0]
    assert abs(low - intervals["a"][0, 0]) < 0.03 * width and abs(high - intervals["a"][1, 0]) < 0.03 * width


def test_sd_uses_ddof_1_and_one_seed_shows_none():
    assert sample_sd([1, 2, 3, 4]) == pytest.approx(math.sqrt(5 / 3))  # 1.2910, not pstdev's 1.1180
    assert return_cell([1.0, 2.0, 3.0, 4.0], 0) == "2.5 ± 1.3"
    assert sample_sd([500.0]) is None and return_cell([500.0], 0) == "500.0"
    assert return_cell([], 0) == ""


def test_a_failed_chain_scores_the_floor_at_its_level_and_later():
    rows = chain_rows({0: [200, 200, 200], 1: [200, 200, 200]})
    rows += [row(2, 0, "mask_weights", 200), row(2, 1, "mask_weights", 200), row(2, 2, "mask_weights", 0, "failed")]
    rows += [row(3, 0, "mask_weights", 200), row(3, 1, "mask_weights", 200)]  # seed 2's chain stopped
    finished = {(lv, s) for lv in range(4) for s in range(3)}
    filled = with_failures(rows, finished, floor=-100.0)
    at3 = [r for r in filled if r["level"] == 3]
    assert [(r["seed"], r["status"], r["best_return"]) for r in at3] == [
        (0, "ok", 200),
        (1, "ok", 200),
        (2, "failed", -100.0),
    ]
    assert at3[2]["density"] == DENSITIES[3]
    assert failed_count(at3) == 1
    assert return_cell([r["best_return"] for r in at3], failed_count(at3)) == "100.0 ± 173.2, failed (1 of 3 seeds)"
    stats = ticket_stats(filled, floor=-100.0, reps=1000)
    by = {s.level: s for s in stats.levels}
    assert (by[1].failed, by[2].failed, by[3].failed) == (0, 1, 1)
    assert by[3].mean == pytest.approx(2 / 3) and by[3].seeds == 3  # (1 + 1 + 0) / 3: never dropped
    r = stats.retention["mask_weights"]
    assert r.percent == pytest.approx(80.0) and r.failed == 1
    assert format_retention(r).endswith(", failed (1 of 3 seeds)")
    # a level seed 2 has not finished gets no row
    assert not [r for r in with_failures(rows, finished - {(3, 2)}, -100.0) if r["level"] == 3 and r["seed"] == 2]


def test_a_failed_dense_run_fails_every_condition_of_its_seed():
    rows = [
        row(0, 0, "", 100),
        row(0, 1, "", 0, "failed"),
        row(1, 0, "mask_weights", 100),
        row(1, 0, "permuted_permuted", 50),
    ]
    filled = with_failures(rows, {(0, 0), (0, 1), (1, 0), (1, 1)}, floor=0.0)
    assert sorted((r["condition"], r["seed"], r["status"]) for r in filled if r["level"] == 1) == [
        ("mask_weights", 0, "ok"),
        ("mask_weights", 1, "failed"),
        ("permuted_permuted", 0, "ok"),
        ("permuted_permuted", 1, "failed"),
    ]
    # the dense mean counts the failure as the floor: scale 50, so seed 0's dense run is 2.0
    chains = {c.condition: c for c in chain_matrices(filled, 0.0)}
    assert chains["mask_weights"].scores.tolist() == [[2.0, 2.0], [0.0, 0.0]]
    assert chains["mask_weights"].failed.tolist() == [[False, False], [True, True]]
