"""A run killed with SIGKILL in the middle of a level resumes from its last finished level and
ends with results identical to an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

ARGS = ["cartpole-ppo", "--seeds", "2", "--levels", "3", "--ppo.total-steps", "1024",
        "--ppo.eval-every", "4", "--ppo.eval-episodes", "2"]


def cli(out: Path, **kw):
    cmd = [sys.executable, "-m", "ticketlab.cli", "run", *ARGS, "--out", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def snapshot(out: Path) -> dict:
    """Every stored array and metric of the run, wall-clock fields removed."""
    (run,) = list(out.iterdir())
    found = {}
    for path in sorted((run / "levels").rglob("*")):
        rel = str(path.relative_to(run))
        if path.suffix == ".safetensors":
            found[rel] = load_file(str(path))
        elif path.name == "metrics.json":
            m = json.loads(path.read_text())
            m.pop("seconds")
            found[rel] = m
    return found


def test_kill_and_resume_gives_identical_results(tmp_path):
    reference = cli(tmp_path / "ref")
    assert reference.wait(timeout=300) == 0, reference.stderr.read()

    out = tmp_path / "killed"
    proc = cli(out)
    deadline = time.time() + 300
    marker = None
    while time.time() < deadline:
        found = list(out.glob("*/levels/level_01/seed_*/*/metrics.json"))
        if found and not list(out.glob("*/levels/level_01/complete.json")):
            break  # inside level 1: some files written, the level not finished
        if list(out.glob("*/levels/level_00/complete.json")):
            marker = True
        time.sleep(0.02)
    assert marker, "level 0 never finished"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not list(out.glob("*/levels/level_02/complete.json"))

    resumed = cli(out)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()

    a, b = snapshot(tmp_path / "ref"), snapshot(out)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict) and key.endswith(".safetensors"):
            for name in a[key]:
                np.testing.assert_array_equal(a[key][name], b[key][name], err_msg=f"{key}:{name}")
        else:
            assert a[key] == b[key], key
