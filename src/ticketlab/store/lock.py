"""One writer per seed of a run: an exclusive `flock` on locks/seed_<s>.lock, held while a process
writes that seed; a second process waits (wait=True) or refuses, naming the holder.

flock is advisory and local to a host's kernel; on a shared filesystem across nodes it holds only
where the filesystem honours flock (Lustre and NFSv4 with lock support do).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ticketlab.core.errors import ConfigError
from ticketlab.store import paths


class RunBusy(ConfigError):
    """Another process holds a seed of this run."""


@contextlib.contextmanager
def seed_locks(run: Path, seeds: list[int], wait: bool = False) -> Iterator[None]:
    handles = []
    try:
        for seed in seeds:
            path = paths.lock_file(run, seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(path, "a+")
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "{}"
                f.close()
                try:
                    h = json.loads(holder)
                    who = f"pid {h.get('pid')} on {h.get('host')} since {h.get('since')}"
                except ValueError:
                    who = "another process"
                raise RunBusy(
                    "run", f"{run} seed {seed} is being written by {who}; wait for it to finish (add --wait) or stop it"
                ) from None
            f.seek(0)
            f.truncate()
            f.write(
                json.dumps(
                    {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}
                )
            )
            f.flush()
            handles.append(f)
        yield
    finally:
        for f in handles:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
            f.close()


def holder(run: Path, seed: int) -> dict[str, Any] | None:
    """Who holds a seed's lock now (None: nobody)."""
    path = paths.lock_file(run, seed)
    if not path.exists():
        return None
    with open(path, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            try:
                found: dict[str, Any] = json.loads(f.read() or "{}")
                return found
            except ValueError:
                return {}
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return None
