"""Worker processes, one per core: each pinned to its core and given one XLA CPU thread.

Small vmapped programs (an IMP block is tens of runs of 64-unit networks) do not profit from
XLA's intra-op threads; two processes pinned one per core run about twice the env steps per
second of one unpinned process. `WorkerPool.submit(fn, item)` queues `fn(item)` for the workers and
`next_result()` returns whichever item ends next (`map` does both for a list). A worker that dies
(killed, out of memory) fails the call with one line naming the item it was running; nothing it
finished is lost, since what a worker computes it writes to the store itself.

The XLA flags must be in a process's environment before it starts (JAX reads them once, when its
CPU backend starts), so the workers are started with them; spawn, not fork: JAX is not fork-safe.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ticketlab.core.errors import ConfigError
from ticketlab.runtime.devices import (
    DETERMINISTIC_GPU,
    DeviceSlot,
    check_devices,
    default_platform,
    is_accelerator,
    local_device_count,
    use_slot_device,
    worker_slots,
)

PR_SET_PDEATHSIG = 1
ONE_XLA_THREAD = ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1")
THREAD_FLAG_PREFIXES = ("--xla_cpu_multi_thread_eigen", "intra_op_parallelism_threads", "--xla_gpu_deterministic_ops")


class WorkerDied(RuntimeError):
    """A worker process exited while it ran an item."""


def usable_cores() -> list[int]:
    """The CPU ids this process may run on (its affinity mask, e.g. a cgroup or taskset limit)."""
    return sorted(os.sched_getaffinity(0))


def check_workers(value, field: str = "workers") -> int | None:
    """`value` as a worker count: an int >= 1, or None for "auto" (one per usable core)."""
    if value is None or value == "auto":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(field, f"must be a whole number >= 1 or auto, got {value!r}") from None
    if n < 1 or str(n) != str(value).strip():
        raise ConfigError(field, f"must be a whole number >= 1 or auto, got {value!r}")
    return n


def worker_count(requested: int | None, parallel_items: int) -> int:
    """Workers to start: the request (None: one per usable core), never more than the items that
    can run at once."""
    n = len(usable_cores()) if requested is None else requested
    return max(1, min(n, parallel_items))


@dataclass(frozen=True)
class Placement:
    """How many workers train at once and the device of each (None: JAX's default device)."""

    workers: int
    slots: list[DeviceSlot] | None
    per_device: int
    """Workers that share one device (its memory)."""


def placement(requested: int | None, devices, parallel_items: int) -> Placement:
    """Workers for `parallel_items` items at once over `devices` (None or "all": every local device
    of JAX's default backend): the request, or by default one per device on an accelerator and one
    per usable core (at least one per device) on the CPU; round robin over the devices. One worker
    trains on the default device."""
    platform = default_platform()
    count = check_devices(devices, local_device_count(), platform)
    if requested is None:
        requested = count if is_accelerator(platform) else max(len(usable_cores()), count)
    n = max(1, min(requested, parallel_items))
    used = min(count, n)
    slots = worker_slots(platform, used, n) if n > 1 and (used > 1 or is_accelerator(platform)) else None
    return Placement(n, slots, -(-n // used))


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def one_xla_thread() -> bool:
    """Whether XLA runs one CPU thread in this process: it may run on one core only, or its
    XLA_FLAGS ask for one thread (as a worker's do). The command line trains blocks only where
    this holds (the Python API may train in a caller's multi-threaded process): XLA's threads split
    large matrix products, and how they split them changes results in the last bits (a 512-wide
    DQN's level 0 differs between two threads and one)."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    return len(usable_cores()) == 1 or all(f in flags for f in ONE_XLA_THREAD)


def one_thread_xla_flags() -> str:
    """The parent's XLA flags minus any thread settings, plus one XLA CPU thread and deterministic GPU
    reductions (runtime/devices.py; the CPU ignores them)."""
    keep = [f for f in os.environ.get("XLA_FLAGS", "").split() if not f.startswith(THREAD_FLAG_PREFIXES)]
    return " ".join(keep + list(ONE_XLA_THREAD) + list(DETERMINISTIC_GPU))


@contextlib.contextmanager
def _pinned(core: int) -> Iterator[None]:
    """This thread pinned to `core` for a moment: a process started meanwhile inherits the mask
    from its first instruction on. (XLA sizes its CPU thread pool by the mask it finds when JAX
    starts, before a worker's own code runs; a worker pinned later keeps a pool of one thread per
    core, whose threads then take turns on its one core.)"""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when the process that started it dies (Linux
    PR_SET_PDEATHSIG), so that a killed run leaves no orphan still writing into its store while
    the same command resumes it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the call above
        os._exit(1)


def _serve(parent: int, tasks, results, slot: DeviceSlot | None = None) -> None:
    """A worker's loop: run items until the None sentinel, on its device."""
    _die_with_parent(parent)
    use_slot_device(slot)
    while True:
        message = tasks.get()
        if message is None:
            return
        ticket, fn, item = message
        results.put(("start", ticket, os.getpid()))
        try:
            results.put(("done", ticket, fn(item)))
        except BaseException as err:  # reported to the caller
            try:
                results.put(("error", ticket, err))
            except Exception:  # an exception that does not pickle: send its text
                results.put(("error", ticket, RuntimeError("".join(traceback.format_exception_only(err)).strip())))


class WorkerPool:
    """`n` spawned worker processes, pinned round-robin to the usable cores, one XLA thread each,
    each bound to its device of `slots` (runtime/devices.py; None: JAX's default device)."""

    def __init__(self, n: int, slots: list[DeviceSlot] | None = None):
        ctx = multiprocessing.get_context("spawn")
        self._tasks, self._results = ctx.Queue(), ctx.Queue()
        cores = usable_cores()
        self.cores = [cores[i % len(cores)] for i in range(n)]
        self.slots = list(slots) if slots is not None else [None] * n
        self._next_ticket = 0
        self._labels: dict[int, str] = {}
        self._running: dict[int, Any] = {}
        self._procs = [
            ctx.Process(
                target=_serve,
                args=(os.getpid(), self._tasks, self._results, slot),
                daemon=True,
                name=f"ticketlab-worker-{i}",
            )
            for i, slot in enumerate(self.slots)
        ]
        for p, core, slot in zip(self._procs, self.cores, self.slots):
            with _environment(XLA_FLAGS=one_thread_xla_flags(), **(slot.env if slot else {})), _pinned(core):
                p.start()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def submit(self, fn: Callable[[Any], Any], item, label: str = "") -> int:
        """Queue `fn(item)`; returns its ticket for `next_result`."""
        ticket = self._next_ticket
        self._next_ticket += 1
        self._labels[ticket] = label or str(item)
        self._tasks.put((ticket, fn, item))
        return ticket

    def next_result(self) -> tuple[int, bool, Any]:
        """(ticket, ok, value) of the next item to end: its result, or the exception it raised.
        WorkerDied when a worker process exits mid-item."""
        while True:
            try:
                message, ticket, value = self._results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self._procs if not p.is_alive()]
                if dead:
                    pid = dead[0].pid
                    what = [self._labels[t] for t, p in self._running.items() if p == pid]
                    self.close(force=True)
                    raise WorkerDied(
                        f"worker process {pid} exited with code {dead[0].exitcode}"
                        f"{' while it ran ' + what[0] if what else ''}; run the same command again to resume"
                    ) from None
                continue
            if message == "start":
                self._running[ticket] = value
                continue
            self._running.pop(ticket, None)
            self._labels.pop(ticket, None)
            return ticket, message == "done", value

    def map(self, fn: Callable[[Any], Any], items: list, describe: Callable[[Any], str] = str) -> list:
        """`[fn(item) for item in items]`, run in the workers; the first exception re-raised after
        every item has ended, or WorkerDied at once when a worker process exits."""
        tickets = {self.submit(fn, item, describe(item)): i for i, item in enumerate(items)}
        out, errors = [None] * len(items), {}
        for _ in items:
            ticket, ok, value = self.next_result()
            if ok:
                out[tickets[ticket]] = value
            else:
                errors[tickets[ticket]] = value
        if errors:
            raise errors[min(errors)]
        return out

    def close(self, force: bool = False) -> None:
        if force:
            for p in self._procs:
                if p.is_alive():
                    p.kill()
        else:
            for _ in self._procs:
                self._tasks.put(None)
        for p in self._procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind, err, tb) -> None:
        self.close(force=kind is not None)
