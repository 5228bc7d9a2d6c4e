"""SIGKILL a run at 10 random moments, restarting it each time: the results end identical to an
uninterrupted run, and no (level, seed) is computed twice once it was complete."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.numpy import load_file

ARGS = [
    "cartpole-ppo",
    "--seeds",
    "2",
    "--levels",
    "3",
    "--ppo.total-steps",
    "1024",
    "--ppo.eval-every",
    "4",
    "--ppo.eval-episodes",
    "2",
]


def start(out: Path, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ticketlab.cli", "run", *ARGS, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def markers(out: Path) -> dict:
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*/levels/*/seed_*/complete.json")}


def results(out: Path) -> dict:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    found = {}
    for path in sorted((run / "levels").rglob("*")):
        if ".corrupt" in str(path):
            continue
        rel = str(path.relative_to(run))
        if path.suffix == ".safetensors":
            found[rel] = {k: v.tobytes() for k, v in load_file(str(path)).items()}
        elif path.name == "metrics.json":
            m = json.loads(path.read_text())
            m.pop("seconds")
            found[rel] = m
    return found


@pytest.mark.slow  # about 2 min: ten killed and resumed runs; CI runs it in its second step
def test_ten_random_kills_end_identical(tmp_path):
    env = dict(
        os.environ,
        JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax-cache"),
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
        JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
    )
    t0 = time.time()
    ref = start(tmp_path / "ref", env)
    assert ref.wait(timeout=300) == 0, ref.stderr.read()
    full = time.time() - t0

    out, rng, seen = tmp_path / "killed", random.Random(0), {}
    for _ in range(10):
        proc = start(out, env)
        time.sleep(rng.uniform(1.0, max(2.0, 0.6 * full)))  # start-up, compiles (cached), levels
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        now = markers(out)
        for path, stamp in seen.items():
            assert now.get(path) == stamp, f"{path} was rewritten after it was complete"
        seen = now
    final = start(out, env)
    assert final.wait(timeout=300) == 0, final.stderr.read()
    for path, stamp in seen.items():
        assert markers(out)[path] == stamp
    a, b = results(tmp_path / "ref"), results(out)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
