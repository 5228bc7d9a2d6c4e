"""Every core busy without changing a bit: the block layout is the config's, so 1 and 2 worker
processes write the same store; a worker killed mid-level is recovered by running the command
again; bad --workers values exit 2 with one line."""

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import tiny_config

from ticketlab.cli.main import main
from ticketlab.core.config import from_dict, to_dict
from ticketlab.core.errors import ConfigError
from ticketlab.experiments.experiment import run
from ticketlab.imp.chains import Chains
from ticketlab.imp.layout import Block, level_blocks, seed_groups, whole_groups
from ticketlab.runtime.workers import check_workers, worker_count
from ticketlab.store.results import load_metrics

# 3 seeds in blocks of 2: groups (0, 1) and (2,), the second padded to 2 runs
FLAGS = [
    "--seeds",
    "3",
    "--levels",
    "3",
    "--block-seeds",
    "2",
    "--ppo.total-steps",
    "1024",
    "--ppo.eval-every",
    "4",
    "--ppo.eval-episodes",
    "2",
]


def config(out):
    return tiny_config(out, seeds=3, levels=3, block_seeds=2)


def store_digest(out: Path) -> dict[str, str]:
    """sha256 of every array file and every metrics file (minus its timing) of a store."""
    digest = {}
    for path in sorted(out.glob("*/levels/**/*")):
        rel = str(path.relative_to(out))
        if path.suffix == ".safetensors":
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    for row in load_metrics(next(out.iterdir()), include_failed=True):
        row = {k: v for k, v in row.items() if k != "seconds"}
        digest[f"metrics {row['level']} {row['seed']} {row['condition']}"] = repr(sorted(row.items()))
    return digest


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "runs"
    run(config(out), workers=1)
    return out


def test_layout_is_the_configs():
    cfg = tiny_config("unused", seeds=5, levels=3, block_seeds=2)
    assert seed_groups(cfg) == [(0, 1), (2, 3), (4,)]
    level0 = level_blocks(cfg, 0, seed_groups(cfg), set())
    assert [b.jobs for b in level0] == [((0, "dense"), (1, "dense")), ((2, "dense"), (3, "dense")), ((4, "dense"),)]
    assert level0[-1].padded_jobs == ((4, "dense"), (4, "dense"))  # every call has the same shape
    later = level_blocks(cfg, 1, seed_groups(cfg), {(1, "mask_permuted"), (4, "*")})
    assert len(later) == 4 * 2  # seed 4's dense run failed: its group has no block left
    assert Block(1, "mask_permuted", ((0, "mask_permuted"),), 2) in later
    assert all(b.size == 2 and len(b.padded_jobs) == 2 for b in later)
    assert seed_groups(tiny_config("unused", seeds=3)) == [(0, 1, 2)]  # 0: all seeds in one block
    with pytest.raises(ConfigError, match="seeds: seeds \\[2\\] are part of the block of seeds 2-3"):
        whole_groups(cfg, [0, 1, 2])
    assert to_dict(from_dict({**to_dict(cfg), "max_batch": 8})) == to_dict(cfg)  # an older config.json still loads


@pytest.mark.slow  # about 37 s: three runs of the same config; CI runs it in its second step
def test_one_and_two_workers_write_identical_stores(tmp_path, one_worker):
    out = tmp_path / "runs"
    run(config(out), workers=2)
    a, b = store_digest(one_worker), store_digest(out)
    assert len(a) == 3 * (1 + 2 * 4) * 3 + 3 * (1 + 2 * 4)  # (mask, start, best) and metrics of 27 runs
    assert a == b


@pytest.mark.slow  # about 45 s: two command-line runs; CI runs it in its second step
def test_worker_killed_mid_level_is_recovered_by_running_again(tmp_path, one_worker):
    out = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "ticketlab.cli",
        "run",
        "cartpole-ppo",
        *FLAGS,
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    env = {**os.environ, "TICKETLAB_FAULT_KILL_WORKER": "1,mask_permuted"}
    killed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert killed.returncode == 1
    assert "ticketlab: error: worker process" in killed.stderr and "run the same command again" in killed.stderr
    run_dir = next(out.iterdir())
    written = list(run_dir.glob("levels/level_01/seed_*/mask_permuted/metrics.json"))
    assert written  # the killed worker wrote one run of its block: that seed's level 1 is not finished
    assert not any((path.parent.parent / "complete.json").exists() for path in written)
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert store_digest(out) == store_digest(one_worker)
    rows = (run_dir / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * (1 + 2 * 4) and len(set(rows)) == len(rows)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "cartpole-ppo", "--workers", "0"], "workers: must be a whole number >= 1 or auto, got '0'"),
        (["run", "cartpole-ppo", "--workers", "two"], "workers: must be a whole number >= 1 or auto, got 'two'"),
        (["run", "cartpole-ppo", "--workers"], "workers: needs a value"),
        (["run", "cartpole-ppo", "--block-seeds", "9"], "block-seeds: must be in 0 .. seeds = 4"),
        (["sweep", "cartpole-ppo", "--workers", "-1"], "workers: must be a whole number >= 1 or auto, got '-1'"),
    ],
)
def test_bad_workers_exit_2_with_one_line(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ticketlab: error: {message}") and "\n" not in err
    assert not any(tmp_path.iterdir())


def test_worker_count():
    assert check_workers("auto") is None and check_workers(3) == 3
    assert worker_count(None, 1000) == len(os.sched_getaffinity(0))
    assert worker_count(8, 3) == 3  # never more than the blocks a level can run at once


def test_chains_advance_on_their_own():
    cfg = tiny_config("unused", seeds=2, levels=3, block_seeds=1)  # groups (0,) and (1,)
    g0, g1 = (0,), (1,)
    chains = Chains(cfg, [g0, g1], {g0: 0, g1: 0}, set())
    dense = chains.first_blocks()
    assert [(b.level, b.jobs) for b in dense] == [(0, ((0, "dense"),)), (0, ((1, "dense"),))]
    ready = chains.finish(dense[0], [])  # group 0's dense run: its four chains may start
    assert [b.condition for b in ready] == list(cfg.imp.conditions) and {b.level for b in ready} == {1}
    assert chains.newly_finished() == [(0, g0)] and not chains.level_finished(0)
    ahead = chains.finish(ready[0], [])  # one chain runs ahead without waiting for the others
    assert [(b.level, b.condition) for b in ahead] == [(2, ready[0].condition)]
    assert chains.newly_finished() == []  # level 1 of group 0 waits for its other chains
    assert chains.finish(ready[1], [0]) == []  # this chain's only seed failed: it stops
    for b in ready[2:]:
        assert chains.finish(b, [])
    assert chains.newly_finished() == [(1, g0)]
    assert chains.finish(ahead[0], []) == []  # the last level
    assert chains.finish(dense[1], [1]) == []  # group 1's dense run failed: no chain of it starts
    assert chains.newly_finished() == [(0, g1), (1, g1), (2, g1)]
    assert not chains.level_finished(2) and chains.level_finished(1)


def children(pid: int) -> list[int]:
    """Worker processes started by `pid` (multiprocessing's spawned children, not its resource
    tracker)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
            out.append(int(stat.parent.name))
    return out


def test_killing_the_run_kills_its_workers(tmp_path):
    """No orphan keeps writing into the store while the same command resumes it."""
    command = [
        sys.executable,
        "-m",
        "ticketlab.cli",
        "run",
        "cartpole-ppo",
        *FLAGS,
        "--workers",
        "2",
        "--out",
        str(tmp_path),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while len(workers := children(proc.pid)) < 2 and time.time() < deadline:
            time.sleep(0.2)
        assert len(workers) == 2
    finally:
        proc.kill()
        proc.wait()
    deadline = time.time() + 10
    while (
        any(
            Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1][:3]
            for w in workers
        )
        and time.time() < deadline
    ):
        time.sleep(0.1)
    alive = [
        w
        for w in workers
        if Path(f"/proc/{w}").exists() and Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    ]
    assert not alive, f"workers {alive} outlived their run"


WIDE = [
    "breakout-minatar-dqn",
    "--levels",
    "1",
    "--seeds",
    "1",
    "--dqn.total-steps",
    "2048",
    "--dqn.learning-starts",
    "512",
    "--dqn.eval-every",
    "8",
    "--dqn.eval-episodes",
    "1",
]


@pytest.mark.slow  # about 90 s: two command-line runs of a 512,256 DQN; CI runs it in its second step
def test_a_wide_network_gives_the_same_bits_with_one_worker_and_two(tmp_path):
    """XLA's threads split the products of a 512-wide network in ways that change the last bits,
    so `--workers 1` must not train with them: every block trains with one XLA thread. (Failed
    with `--workers 1` training in the test's own, two-threaded process.)"""
    digests = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["run", *WIDE, "--workers", workers, "--out", str(out)]) == 0
        digests.append(store_digest(out))
    assert len(digests[0]) == 4 and digests[0] == digests[1]
