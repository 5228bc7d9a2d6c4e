"""Crash safety of the store: corrupted and truncated files are detected, reported and recomputed;
two writers cannot share a seed; NaN stops one chain and keeps everything else."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import tiny_config
from safetensors.numpy import load_file

from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.reporting.status import format_status, run_status
from ticketlab.store import paths
from ticketlab.store.completion import read_events
from ticketlab.store.lock import seed_locks
from ticketlab.store.results import load_metrics


def arrays(run):
    return {
        str(p.relative_to(run)): load_file(str(p))
        for p in sorted((run / "levels").rglob("*.safetensors"))
        if ".corrupt" not in str(p)
    }


@pytest.mark.slow  # about 24 s: a run, three of its files damaged, resumed; CI runs it in its second step
def test_truncated_and_corrupted_files_are_recomputed(tmp_path, capsys):
    cfg = tiny_config(tmp_path / "runs", levels=3)
    run = run_experiment(cfg)
    original = arrays(run)
    truncated = paths.tree_file(run, 1, 0, "mask_weights", "best")
    truncated.write_bytes(truncated.read_bytes()[:50])
    flipped = paths.tree_file(run, 2, 1, "random_reinit", "mask")
    data = bytearray(flipped.read_bytes())
    data[-1] ^= 0xFF
    flipped.write_bytes(bytes(data))
    metrics = paths.metrics_file(run, 0, 1, "dense")
    metrics.write_text(metrics.read_text()[:20])

    problems = run_status(run, verify=True)
    assert sum(bool(s["corrupt"]) for s in problems["seeds"]) == 2

    run_experiment(cfg)
    assert capsys.readouterr().out.count("is corrupted and will be recomputed") == 3  # reported
    recomputed = {(e["level"], e["seed"]) for e in read_events(run) if e["event"] == "corrupt_recomputed"}
    assert recomputed == {(1, 0), (2, 1), (0, 1)}
    again = arrays(run)
    assert again.keys() == original.keys()
    for key in original:
        for name in original[key]:
            np.testing.assert_array_equal(original[key][name], again[key][name])
    assert all(not s["corrupt"] for s in run_status(run, verify=True)["seeds"])
    assert "recomputed" in format_status(run_status(run))


@pytest.mark.slow  # two command-line runs racing for one store (about 10 s), moved to keep the README's test command under 10 minutes
def test_second_writer_refuses_naming_the_holder(tmp_path):
    cfg = tiny_config(tmp_path / "runs", levels=1, seeds=1)
    run = paths.run_dir(cfg)
    with seed_locks(run, [0]):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ticketlab.cli",
                "run",
                "cartpole-ppo",
                "--seeds",
                "1",
                "--levels",
                "1",
                "--ppo.total-steps",
                "1024",
                "--ppo.eval-every",
                "4",
                "--ppo.eval-episodes",
                "2",
                "--out",
                str(tmp_path / "runs"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2
        assert f"seed 0 is being written by pid {os.getpid()}" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert not list(run.glob("levels/*/seed_0/complete.json"))
        assert run_status(run)["state"] == "running"
    run_experiment(cfg)  # once released, the run goes through
    assert run_status(run)["state"] == "done"


def test_nan_stops_one_chain_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("TICKETLAB_FAULT_NAN", "1,mask_weights,2")
    cfg = tiny_config(tmp_path / "runs", levels=4)
    run = run_experiment(cfg)
    rows = load_metrics(run, include_failed=True)
    failed = [r for r in rows if r["status"] == "failed"]
    assert [(r["seed"], r["condition"], r["level"]) for r in failed] == [(1, "mask_weights", 2)]
    assert "non-finite" in failed[0]["failure"]
    assert paths.tree_file(run, 1, 1, "mask_weights", "best").exists()  # earlier levels kept
    assert not paths.metrics_file(run, 3, 1, "mask_weights").exists()  # the chain stopped
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 2 + (3 * 4 * 2) - 1 - 1  # everything else finished
    st = run_status(run)
    assert st["state"] == "done" and st["failed_chains"][0]["condition"] == "mask_weights"
    assert "failed chain: seed 1 mask_weights at level 2" in format_status(st)
    with open(paths.results_csv(run)) as f:
        assert "failed" in f.read()
