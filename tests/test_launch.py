"""Launchers: a two-node Ray cluster on 127.0.0.1 (one task failing once, then retried; and a
Bullet Hopper run through the host path), and submitit's local cluster; each writes the same store,
bit for bit, as the local backend. Every Ray cluster of the suite starts here, so that under
`pytest -n` (a module per worker) two never run at once."""

import dataclasses

import pytest
from conftest import stored_arrays as store_arrays
from conftest import tiny_config, two_node_ray

from ticketlab.launch.launchers import launch
from ticketlab.launch.tasks import make_tasks
from ticketlab.presets import preset
from ticketlab.pruning.conditions import PAPER_CONDITIONS
from ticketlab.store.completion import read_events


def tasks_for(out):
    return make_tasks([tiny_config(out, seeds=2, levels=2, block_seeds=1)])  # two tasks, one seed each


@pytest.fixture(scope="module")
def local_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "runs"
    done, failed = launch(tasks_for(out), "local", workers=2)
    assert len(done) == 2 and not failed
    return out


@pytest.mark.slow
def test_ray_two_node_cluster_spreads_tasks_retries_and_matches_local(tmp_path, local_store, monkeypatch):
    monkeypatch.setenv("TICKETLAB_FAULT_FAIL_ONCE", str(tmp_path / "failed-once"))  # inherited by the workers
    with two_node_ray(monkeypatch):
        out = tmp_path / "runs"
        done, failed = launch(tasks_for(out), "ray", retries=2)
        assert not failed and len(done) == 2
        assert len({d["node"] for d in done}) == 2  # one task on each node
        assert (tmp_path / "failed-once").exists()  # a task failed once and its retry succeeded
    a, b = store_arrays(local_store), store_arrays(out)
    assert a.keys() == b.keys() and len(a) > 0
    assert all(a[k] == b[k] for k in a)


def test_ray_task_failing_after_its_retries_is_reported(tmp_path, monkeypatch, capsys):
    ray = pytest.importorskip("ray")
    from ticketlab.cli.main import main

    monkeypatch.setenv("TICKETLAB_FAULT_FAIL_ONCE", str(tmp_path / "marker"))
    ray.init(
        address="local", num_cpus=1, include_dashboard=False, log_to_driver=False
    )  # a new cluster, never a stale one
    try:
        out = tmp_path / "runs"
        code = main(
            [
                "sweep",
                "cartpole-ppo",
                "--seeds",
                "1",
                "--levels",
                "1",
                "--backend",
                "ray",
                "--retries",
                "0",
                "--out",
                str(out),
                "--grid",
                "ppo.total-steps=1024",
                "--grid",
                "ppo.eval-every=4",
            ]
        )
    finally:
        ray.shutdown()
    assert code == 1
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    events = read_events(run)
    assert [e["event"] for e in events] == ["task_failed"] and "injected failure" in events[0]["error"]
    assert main(["status", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "failed task: seeds [0]:" in shown and "injected failure" in shown


@pytest.mark.slow
def test_submitit_local_cluster_matches_local(tmp_path, local_store):
    pytest.importorskip("submitit")
    out = tmp_path / "runs"
    done, failed = launch(tasks_for(out), "submitit", folder=str(tmp_path / "logs"), cluster="local")
    assert not failed and len(done) == 2
    a, b = store_arrays(local_store), store_arrays(out)
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)


@pytest.mark.slow
def test_a_two_node_ray_cluster_finishes_a_hopper_run_as_a_local_one(tmp_path, monkeypatch):
    """The host path under Ray: two nodes on 127.0.0.1, one task (seed block) each, the same
    stored bits as the local backend."""
    base = preset("hopper-bullet-ppo")
    cfg = dataclasses.replace(
        base,
        seeds=2,
        levels=2,
        block_seeds=1,
        ppo=dataclasses.replace(base.ppo, total_steps=2560, eval_every=1, eval_episodes=1),
    )
    local = tmp_path / "local"
    done, failed = launch(make_tasks([dataclasses.replace(cfg, out=str(local))]), "local", workers=2)
    assert len(done) == 2 and not failed
    with two_node_ray(monkeypatch):
        remote = tmp_path / "ray"
        done, failed = launch(make_tasks([dataclasses.replace(cfg, out=str(remote))]), "ray", retries=1)
        assert not failed and len(done) == 2 and len({d["node"] for d in done}) == 2
    a, b = store_arrays(local), store_arrays(remote)
    assert a.keys() == b.keys() and len(a) == 2 * (1 + len(PAPER_CONDITIONS)) * 3
    assert all(a[k] == b[k] for k in a)
