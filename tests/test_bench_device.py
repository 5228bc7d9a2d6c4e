"""bench/device.py, the device benchmark, with tiny budgets on the CPU so that it cannot rot: every
workload trains through the engine's trainer and prints a row of positive numbers."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "device.py"
ROW = re.compile(
    r"^(?P<label>.+?\(tiny\))\s+2\s+(?P<steps>\d+)\s+[\d.]+\s+[\d.]+\s+(?P<rate>[\d,]+)\s+(?P<gflops>[\d.]+)"
    r"\s+[\d.]+\s+(?P<mem>[\d.]+) \(estimate\)\s+(?P<hours>[\d.]+) h$"
)


def _rows(*args):
    proc = subprocess.run([sys.executable, str(BENCH), "--tiny", *args], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    rows = [m.groupdict() for m in map(ROW.match, proc.stdout.splitlines()) if m]
    for r in rows:
        assert int(r["steps"]) > 0 and float(r["rate"].replace(",", "")) > 0 and float(r["gflops"]) > 0
        assert float(r["mem"]) > 0 and float(r["hours"]) > 0
    return [r["label"] for r in rows]


@pytest.mark.slow  # about 2 min: compiles four programs, Brax's the slowest
def test_the_device_benchmark_runs_every_workload():
    assert _rows() == [
        "Cart-Pole PPO level (tiny)",
        "MazeGrid DQN level (tiny)",
        "MinAtar CNN DQN block (tiny)",
        "Brax Hopper PPO block (tiny)",
    ]
