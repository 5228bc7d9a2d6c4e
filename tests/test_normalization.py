"""Normalization that says what it assumed (issue: Catch-bsuite, DeepSea-bsuite and
MountainCarContinuous as a new user runs them): an environment without a known floor is flagged
and `--env.return-floor` sets one, without renaming the run; a dense mean at the floor leaves
returns raw, labelled so, with no "95 % of dense" number; no axis uses offset notation."""

import dataclasses

import matplotlib.pyplot as plt
import pytest
from test_ticket_stats import chain_rows

from ticketlab.core.config import EnvConfig
from ticketlab.core.errors import ConfigError
from ticketlab.core.hashing import config_hash
from ticketlab.envs.registry import env_spec, floor_warning
from ticketlab.experiments.configure import parse_run_args
from ticketlab.reporting.analysis.ticket_stats import normalizer, selection_level, ticket_stats
from ticketlab.reporting.plots.compare import compare_figure
from ticketlab.reporting.plots.ticket import ticket_figure
from ticketlab.store.rundir import load_run_config, prepare_run_dir


def test_an_id_without_facts_has_its_floor_assumed_and_said():
    catch = env_spec(EnvConfig("Catch-bsuite"))
    assert not catch.floor_known and catch.return_floor == 0.0
    assert "env.return-floor" in floor_warning(catch) and "Catch-bsuite" in floor_warning(catch)
    given = env_spec(EnvConfig("Catch-bsuite", return_floor=-1.0))
    assert given.floor_known and given.return_floor == -1.0 and floor_warning(given) is None
    for known in ("CartPole-v1", "Acrobot-v1", "MazeGrid-v0", "Breakout-MinAtar"):
        assert env_spec(EnvConfig(known)).floor_known, known
    with pytest.raises(ConfigError, match="env.return-floor: must be a finite number"):
        env_spec(EnvConfig("Catch-bsuite", return_floor=float("nan")))


def test_the_floor_is_reporting_only_so_a_finished_run_takes_one(tmp_path):
    base = parse_run_args(["cartpole-ppo", "--env.name", "Catch-bsuite", "--out", str(tmp_path)])
    floored = dataclasses.replace(base, env=dataclasses.replace(base.env, return_floor=-1.0))
    assert config_hash(base) == config_hash(floored)  # the same run directory
    prepare_run_dir(tmp_path / "run", base)
    prepare_run_dir(tmp_path / "run", floored)  # rerun with the floor: recorded, nothing else changed
    assert load_run_config(tmp_path / "run").env.return_floor == -1.0
    prepare_run_dir(tmp_path / "run", base)  # and not forgotten by a later call without it
    assert load_run_config(tmp_path / "run") == floored


def test_a_dense_mean_at_the_floor_leaves_returns_raw_and_no_95_percent_number():
    # DeepSea-like: every return 0, floor 0 -> nothing to normalize by
    rows = chain_rows({0: [0.0, 0.0], 1: [0.0, 0.0], 2: [0.0, 0.0]})
    norm = normalizer(rows, 0.0)
    assert norm.raw and norm(rows[-1]) == 0.0 and "raw" in norm.axis_label()
    stats = ticket_stats(rows, 0.0, reps=100)
    assert stats.retention == {} and "not above the floor 0" in stats.no_retention
    assert "--env.return-floor" in stats.no_retention
    assert selection_level([{**r, "input_layer": {}} for r in rows], 0.0) is None
    # a dense mean below an assumed floor is no scale either (it would flip the curves)
    assert normalizer(chain_rows({0: [-3.0, -5.0], 1: [-4.0, -4.0]}), 0.0).raw
    # and an ordinary one is what it was: (R - floor) / (dense mean - floor)
    ok = normalizer(chain_rows({0: [110.0, 110.0], 1: [60.0, 60.0]}), 10.0)
    assert not ok.raw and ok({"best_return": 60.0}) == 0.5


def _ticket_cfg(env: str, floor=None):
    cfg = parse_run_args(["cartpole-ppo", "--env.name", env])
    return dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, return_floor=floor))


def test_figures_say_raw_and_assumed_and_never_use_an_offset():
    near_one = chain_rows({0: [1.0, 1.0 + 2e-6], 1: [1.0 - 1e-6, 1.0], 2: [1.0 + 1e-6, 1.0]})  # MountainCarContinuous
    fig = ticket_figure(near_one, _ticket_cfg("Catch-bsuite"))
    ax = fig.axes[0]
    fig.canvas.draw()
    assert ax.get_ylabel() == "best return / dense mean (floor assumed 0)"
    assert ax.yaxis.get_major_formatter().get_offset() == ""  # no "1e-6+1"
    assert all(t.get_text() for t in ax.get_yticklabels())
    plt.close(fig)
    known = ticket_figure(near_one, _ticket_cfg("Catch-bsuite", floor=-1.0))
    assert known.axes[0].get_ylabel() == "best return / dense mean"
    plt.close(known)
    zeros = chain_rows({0: [0.0, 0.0], 1: [0.0, 0.0]})
    raw = ticket_figure(zeros, _ticket_cfg("DeepSea-bsuite"))
    assert raw.axes[0].get_ylabel().startswith("best return (raw")
    plt.close(raw)
    # several runs on one axis: all raw when one cannot be normalized
    counted = lambda rows: [{**r, "remaining_weights": round(1000 * r["density"])} for r in rows]
    both = compare_figure(
        [(_ticket_cfg("Catch-bsuite", 0.0), counted(zeros)), (_ticket_cfg("CartPole-v1"), counted(near_one))],
        ("mask_weights",),
    )
    assert both.axes[0].get_ylabel().startswith("best return (raw")
    plt.close(both)
