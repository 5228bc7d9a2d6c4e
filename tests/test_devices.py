"""Blocks on several devices (runtime/devices.py): one worker per device, each bound to its own;
1, 2 and 4 forced CPU devices write identical stores; a block killed after a mid-level checkpoint
resumes bit-identically; bad --devices and --checkpoint-every-s are refused before anything is
written."""

import json
import os
import subprocess
import sys

import pytest
from test_workers import FLAGS, store_digest

from ticketlab.cli.main import main
from ticketlab.runtime.devices import check_devices, worker_slots
from ticketlab.runtime.workers import WorkerPool

FOUR_DEVICES = "--xla_force_host_platform_device_count=4"


def _pid_and_device(_):
    import time

    import jax.numpy as jnp

    time.sleep(0.3)  # (so that both workers take items)
    return os.getpid(), next(iter(jnp.zeros(1).devices())).id


def test_each_worker_trains_on_its_own_device(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", FOUR_DEVICES)
    assert [s.device for s in worker_slots("cpu", 2, 4)] == [0, 1, 0, 1]
    slots = worker_slots("cpu", 4, 4)[2:]  # two workers, on devices 2 and 3
    assert [s.index for s in slots] == [2, 3] and all(s.env == {} for s in slots)
    pool = WorkerPool(2, slots)
    try:
        seen = dict(pool.map(_pid_and_device, list(range(6))))
        assert seen == dict(zip(pool.pids, [2, 3]))
    finally:
        pool.close()
    assert [s.index for s in worker_slots("cpu", 1, 2)] == [None, None]  # one device: JAX's default


def test_workers_on_a_gpu_see_only_their_device_and_share_its_memory(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    slots = worker_slots("gpu", 2, 4)
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in slots] == ["0", "1", "0", "1"]
    assert {s.env["XLA_PYTHON_CLIENT_MEM_FRACTION"] for s in slots} == {"0.375"}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # a scheduler's choice is kept
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in worker_slots("gpu", 2, 2)] == ["3", "5"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "devices: must be a whole number from 1 to 1 (the cpu devices here) or all, got '0'"),
        ("-1", "devices: must be a whole number from 1 to 1 (the cpu devices here) or all, got '-1'"),
        ("5", "devices: must be a whole number from 1 to 1 (the cpu devices here) or all, got '5'"),
        ("two", "devices: must be a whole number from 1 to 1 (the cpu devices here) or all, got 'two'"),
    ],
)
def test_bad_devices_exit_2_with_one_line(value, message, tmp_path, capsys):
    assert main(["run", "cartpole-ppo", "--devices", value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"ticketlab: error: {message}"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "must be a number of seconds >= 0"),
        ("nan", "must be a number of seconds >= 0"),
        ("soon", "'soon' is not a number"),
    ],
)
def test_bad_checkpoint_every_exits_2_with_one_line(value, message, tmp_path, capsys):
    assert main(["run", "cartpole-ppo", "--checkpoint-every-s", value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ticketlab: error: checkpoint-every-s: {message}") and "\n" not in err
    assert not any(tmp_path.iterdir())


def test_device_counts():
    assert (
        check_devices(None, 4, "cpu") == 4 and check_devices("all", 4, "cpu") == 4 and check_devices("2", 4, "cpu") == 2
    )


def _cli(out, args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "ticketlab.cli", "run", *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _env(tmp_path, **extra):
    return {
        **os.environ,
        "XLA_FLAGS": FOUR_DEVICES,
        "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "jax-cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        **extra,
    }


@pytest.mark.slow  # about 2 min: three command-line runs on 4 forced CPU devices
def test_one_two_and_four_devices_write_identical_stores(tmp_path):
    digests = {}
    for devices in ("1", "2", "4"):
        proc = _cli(tmp_path / devices, ["cartpole-ppo", *FLAGS, "--devices", devices], _env(tmp_path))
        assert proc.returncode == 0, proc.stderr
        digests[devices] = store_digest(tmp_path / devices)
    assert len(digests["1"]) == 3 * (1 + 2 * 4) * 3 + 3 * (1 + 2 * 4)
    assert digests["1"] == digests["2"] == digests["4"]


KILLED = {
    "ppo": [
        "cartpole-ppo",
        "--seeds",
        "2",
        "--levels",
        "2",
        "--ppo.total-steps",
        "2048",
        "--ppo.eval-every",
        "4",
        "--ppo.eval-episodes",
        "2",
    ],
    "dqn": [
        "cartpole-dqn",
        "--seeds",
        "2",
        "--levels",
        "2",
        "--dqn.total-steps",
        "6000",
        "--dqn.buffer-size",
        "3000",
        "--dqn.learning-starts",
        "500",
        "--dqn.eval-every",
        "100",
        "--dqn.eval-episodes",
        "2",
    ],
}


@pytest.mark.slow  # about a minute each: three command-line runs
@pytest.mark.parametrize("agent", ["ppo", "dqn"])
def test_a_block_killed_mid_level_resumes_from_its_checkpoint_bit_identically(tmp_path, agent):
    # one worker: a second one's block in flight would leave its own checkpoint when this one is killed
    args = [*KILLED[agent], "--checkpoint-every-s", "0.000001", "--workers", "1"]
    reference = _cli(tmp_path / "reference", KILLED[agent], _env(tmp_path))  # the default: no save in so short a block
    assert reference.returncode == 0, reference.stderr
    killed = _cli(tmp_path / "killed", args, _env(tmp_path, TICKETLAB_FAULT_KILL_AFTER_CHECKPOINT="1,mask_weights,5"))
    assert killed.returncode != 0
    run_dir = next((tmp_path / "killed").iterdir())
    [saved] = list((run_dir / "checkpoints").iterdir())
    meta = json.loads((saved / "checkpoint.json").read_text())
    assert meta["level"] == 1 and meta["condition"] == "mask_weights" and 0 < meta["step"] < meta["steps"]
    resumed = _cli(tmp_path / "killed", args, _env(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "checkpoint_resumed"] == [meta["step"]]
    assert not any((run_dir / "checkpoints").iterdir())  # deleted once its block finished
    assert store_digest(tmp_path / "killed") == store_digest(tmp_path / "reference")
