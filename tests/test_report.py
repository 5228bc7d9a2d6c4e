"""`ticketlab report` on a real tiny Cart-Pole run with one failed chain, its closing-table
statistics, the page rendered in headless Chromium, and `ticketlab compare` labels of real configs."""

import dataclasses
import os

import numpy as np
import pytest
from browser import screenshot
from conftest import tiny_config

from ticketlab.cli.main import main
from ticketlab.experiments.configure import parse_run_args
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.reporting.plots.compare import differing_fields, run_label, run_labels
from ticketlab.reporting.progress import closing_table


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """2 seeds x 3 levels x (ticket, permuted/permuted); seed 1's ticket chain fails (NaN) at level 1."""
    out = tmp_path_factory.mktemp("report")
    cfg = tiny_config(out / "runs", levels=3)
    cfg = dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, conditions=("mask_weights", "permuted_permuted")))
    os.environ["TICKETLAB_FAULT_NAN"] = "1,mask_weights,1"
    try:
        return run_experiment(cfg)
    finally:
        del os.environ["TICKETLAB_FAULT_NAN"]


def test_closing_table_counts_the_failed_chain_and_prints_the_statistics(failed_run, capsys):
    closing_table(failed_run, [])
    out = capsys.readouterr().out
    assert out.count("failed (1 of 2 seeds)") >= 3  # levels 1 and 2 of the ticket, and its >=95% cell
    assert "≥95%" in out and "of dense at" in out and "stratified bootstrap over seeds" in out


def test_report_shows_every_section_and_the_failure(failed_run, tmp_path, capsys):
    page = tmp_path / "out" / "report.html"
    assert main(["report", str(failed_run), "--out", str(page)]) == 0
    assert capsys.readouterr().out.strip() == str(page)
    text = page.read_text()
    for heading in (
        "Config and provenance",
        "The ticket effect",
        "Per level",
        "Minimal representation",
        "Layer densities",
        "Plasticity",
        "Mask overlap",
        "Events",
    ):
        assert f">{heading}</h3>" in text
    # ticket, input dimensions, layer density, plasticity, mask overlap
    assert text.count("data:image/png;base64,") == 5
    assert "dormant units, tau 0.1 (%)" in text and "random masks" in text
    for name in (
        "cart position",
        "pole angle",
        "actor/dense_0/kernel",
        "chain_failed",
        "failed (1 of 2 seeds)",
        "stratified bootstrap",
        "config hash",
    ):
        assert name in text, name
    assert "http://" not in text and "https://" not in text and "<script" not in text and "<link" not in text


@pytest.mark.parametrize(
    "argv,message",
    [
        (["report", "RUN", "--out", "page.pdf"], "out: 'page.pdf' must end in .html or .htm"),
        (["report", "RUN", "--colour", "red"], "colour: unknown option of report; allowed: --out"),
        (["report", "RUN", "nowhere"], "run: nowhere is not a directory"),
        (["report", "RUN", "levels"], "is not a ticketlab run directory (no config.json)"),
    ],
)
def test_bad_report_input_exits_2_and_writes_nothing(failed_run, argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(failed_run)
    before = sorted(p for p in failed_run.rglob("*"))
    stamps = [p.stat().st_mtime_ns for p in before]
    code = main([str(failed_run) if a == "RUN" else a for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    after = sorted(p for p in failed_run.rglob("*"))
    assert after == before and [p.stat().st_mtime_ns for p in after] == stamps


def test_the_report_renders_in_headless_chromium(failed_run, tmp_path):
    page = tmp_path / "report.html"
    assert main(["report", str(failed_run), "--out", str(page)]) == 0
    pixels = screenshot(page, tmp_path / "shot.png", tmp_path)
    assert pixels.shape[:2] == (2000, 1200)
    non_white = (pixels < 245).any(axis=2).mean()
    colours = len(np.unique((pixels // 16).reshape(-1, 3), axis=0))
    assert non_white > 0.08, f"only {non_white:.1%} of the screenshot is not white"
    assert colours >= 20, f"only {colours} distinct colours"
    assert (np.abs(pixels[:80, :, :].astype(int) - [31, 58, 95]).sum(axis=2) < 30).mean() > 0.3  # the header bar


def test_compare_labels_name_the_fields_two_real_configs_differ_in():
    plain = parse_run_args(["cartpole-ppo", "--scale", "paper"])  # default init (the demo's is 0.5)
    scaled = parse_run_args(["cartpole-ppo", "--scale", "paper", "--init.input-scale", "0.1"])
    assert run_label(plain) == run_label(scaled) == "PPO 64,64"  # what compare used to print for both
    assert differing_fields([plain, scaled]) == ["init.input_scale"]
    assert run_labels([plain, scaled]) == ["init.input_scale=1", "init.input_scale=0.1"]
    # RL against BC, told apart by the paradigm: today's label
    assert run_labels([plain, parse_run_args(["cartpole-bc"])]) == ["PPO 64,64", "BC 128,128"]
    # only the level count (not hashed) differs: today's label
    longer = parse_run_args(["cartpole-ppo", "--scale", "paper", "--levels", "30"])
    assert run_labels([plain, longer]) == ["PPO 64,64", "PPO 64,64"]
    many = parse_run_args(
        ["cartpole-ppo", "--init.input-scale", "0.1", "--ppo.lr", "1e-3", "--seeds", "3", "--imp.scope", "actor_critic"]
    )
    assert run_labels([plain, many])[1] == "imp.scope=actor_critic, init.input_scale=0.1, ppo.lr=0.001, +1 more"
