"""Launchers by name (`ticketlab sweep --backend`): local (pinned worker processes), ray (Ray core
tasks with retries), submitit (SLURM job arrays), each a registered `Launcher` whose `check` refuses
what it cannot do before anything is written (a missing extra, an unreachable cluster) and whose
`run(tasks, options, report) -> (done, failed)` runs every task. `launch(tasks, name, **options)`."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ticketlab.core.config import DEFAULT_EVERY_S
from ticketlab.core.errors import ConfigError
from ticketlab.core.registry import Registry
from ticketlab.launch.tasks import Task, run_task
from ticketlab.runtime.devices import default_platform, is_accelerator
from ticketlab.runtime.workers import WorkerPool, one_thread_xla_flags, placement

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class LaunchOptions:
    workers: int | None = None
    """local: worker processes (None: one per device on an accelerator, one per usable core on the CPU)."""
    devices: int | str | None = None
    """local: the devices of JAX's default backend the workers train on (None or "all": every one)."""
    checkpoint_every_s: float = DEFAULT_EVERY_S
    """Every backend: a block saves its training state this often (imp/checkpoints.py; 0: never)."""
    gpus_per_task: int | None = None
    """ray, submitit: GPUs each task asks for (None: one where JAX's default backend here is an
    accelerator, else none)."""
    address: str = "auto"
    """ray: the cluster (auto, local or HOST:PORT)."""
    retries: int = 2
    """ray: retries of a failed task."""
    partition: str = ""
    """submitit: the SLURM partition."""
    folder: str = "runs/submitit"
    """submitit: where its logs go."""
    cluster: str | None = None
    """submitit: its cluster (None: SLURM where there is one; local: processes here)."""


@dataclass(frozen=True)
class Launcher:
    name: str
    run: Callable
    """(tasks, LaunchOptions, report) -> (results of finished tasks, [(task, error)] of failed ones)."""
    check: Callable = lambda options: None
    """LaunchOptions -> None, or a ConfigError naming what is missing."""


LAUNCHERS: Registry[Launcher] = Registry("backend")


def _first_line(err: Exception) -> str:
    text = ANSI.sub("", str(err)).strip().splitlines()
    cause = [line for line in text if "Error" in line and "ray::" not in line]
    return f"{err.__class__.__name__}: {(cause or text or [''])[-1 if cause else 0].strip()}"


def launch(tasks: list[Task], backend: str, report=print, **options):
    """Run every task with the launcher named `backend`; return (results of finished tasks, [(task,
    error)] of failed ones). `options` are `LaunchOptions`' fields."""
    launcher = LAUNCHERS.get(backend)
    opts = LaunchOptions(**options)
    launcher.check(opts)
    return launcher.run(tasks, opts, report)


def _local(tasks, options: LaunchOptions, report):
    """Tasks on this machine, every core busy: with at least as many tasks as workers, one task per
    pinned worker process; with fewer, one task after another, each training its blocks in the
    workers. The results are the same either way (the block layout is the config's)."""
    place = placement(options.workers, options.devices, 1 << 30)  # the request, or every core or device
    done: list = []
    failed: list = []
    if 1 < place.workers <= len(tasks):
        with WorkerPool(place.workers, place.slots) as pool:
            tickets = {pool.submit(_attempt, (t, options.checkpoint_every_s), t.label): t for t in tasks}
            for _ in tasks:  # reported as they end
                ticket, returned, value = pool.next_result()
                ok, value = value if returned else (False, value)  # (_attempt returns (ok, value))
                _record(tickets[ticket], ok, value, done, failed, report)
        return done, failed
    for task in tasks:
        try:
            ok, value = (
                True,
                run_task(
                    task,
                    workers=options.workers,
                    devices=options.devices,
                    checkpoint_every_s=options.checkpoint_every_s,
                ),
            )
        except Exception as err:  # a failed task is reported, the others go on
            ok, value = False, err
        _record(task, ok, value, done, failed, report)
    return done, failed


def _attempt(item: tuple[Task, float]):
    """run_task in a worker, on its device; a failure comes back as a value, so the other tasks go on."""
    task, checkpoint_every_s = item
    try:
        return True, run_task(task, checkpoint_every_s=checkpoint_every_s)
    except Exception as err:
        return False, RuntimeError(_first_line(err))


def _record(task, ok, value, done, failed, report):
    if ok:
        done.append(value)
        report(f"done   {task.label}")
    else:
        failed.append((task, _first_line(value)))
        report(f"FAILED {task.label}: {value}")


def check_ray_address(address: str) -> None:
    """Fail fast, in one line, when no Ray cluster answers at `address`."""
    if address in ("auto", "local"):
        if address == "auto" and not (os.environ.get("RAY_ADDRESS") or Path("/tmp/ray/ray_current_cluster").exists()):
            raise ConfigError(
                "address",
                "auto found no running Ray cluster on this machine; start one with "
                "`ray start --head` or give --address HOST:PORT",
            )
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("address", f"{address!r} must be auto, local or HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as err:
        raise ConfigError(
            "address",
            f"cannot reach a Ray cluster at {address} ({err.strerror or err}); "
            "check the head node or use --address auto",
        ) from None


def gpus_per_task(options: LaunchOptions) -> int:
    """The GPUs a cluster task asks for: the option, or one where JAX's default backend here is an
    accelerator (a task trains its blocks one after another on one device)."""
    if options.gpus_per_task is not None:
        return options.gpus_per_task
    return 1 if is_accelerator(default_platform()) else 0


def _check_ray(options: LaunchOptions) -> None:
    try:
        import ray  # optional extra: pip install -e '.[ray]'
    except ImportError:
        raise ConfigError("backend", "ray needs the ray extra: pip install -e '.[ray]'") from None
    if not ray.is_initialized():  # (a caller may have connected already)
        check_ray_address(options.address)


def _ray(tasks, options: LaunchOptions, report):
    import ray  # optional extra: pip install -e '.[ray]'

    retries = options.retries
    if not ray.is_initialized():
        ray.init(address=options.address, log_to_driver=False)
    # one CPU per task, and XLA told so: a task then trains in its Ray worker with one XLA thread,
    # as local workers do (the same bits), instead of starting a pinned worker of its own
    remote = ray.remote(
        num_cpus=1,
        num_gpus=gpus_per_task(options),
        max_retries=retries,
        retry_exceptions=True,
        runtime_env={"env_vars": {"XLA_FLAGS": one_thread_xla_flags()}},
    )(run_task)
    refs = {remote.remote(t, checkpoint_every_s=options.checkpoint_every_s): t for t in tasks}
    done, failed = [], []
    for ref, task in refs.items():
        try:
            done.append(ray.get(ref))
            report(f"done   {task.label} on node {done[-1]['node']}")
        except Exception as err:  # retries exhausted: report it, record it, keep the others
            failed.append((task, _first_line(err)))
            report(f"FAILED {task.label} after {retries} retries: {failed[-1][1]}")
    return done, failed


def _check_submitit(options: LaunchOptions) -> None:
    try:
        import submitit  # noqa: F401  (optional extra: pip install -e '.[slurm]')
    except ImportError:
        raise ConfigError("backend", "submitit needs the slurm extra: pip install -e '.[slurm]'") from None


def _submitit(tasks, options: LaunchOptions, report):
    import submitit  # optional extra: pip install -e '.[slurm]'

    executor = submitit.AutoExecutor(folder=options.folder, cluster=options.cluster)
    params: dict[str, int | str] = {"timeout_min": 24 * 60, "cpus_per_task": 2}
    if gpus_per_task(options):
        params["gpus_per_node"] = gpus_per_task(options)
    if options.partition and executor.cluster == "slurm":
        params["slurm_partition"] = options.partition
    executor.update_parameters(**params)
    jobs = executor.map_array(partial(run_task, checkpoint_every_s=options.checkpoint_every_s), tasks)
    done, failed = [], []
    for job, task in zip(jobs, tasks):
        try:
            done.append(job.result())
            report(f"done   {task.label} (job {job.job_id})")
        except Exception as err:
            failed.append((task, _first_line(err)))
            report(f"FAILED {task.label} (job {job.job_id}): {failed[-1][1]}")
    return done, failed


for _launcher in (
    Launcher("local", _local),
    Launcher("ray", _ray, _check_ray),
    Launcher("submitit", _submitit, _check_submitit),
):
    LAUNCHERS.register(_launcher.name, _launcher)
