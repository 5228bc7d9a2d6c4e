"""Which (level, seed) pieces of a run are finished, and whether their files are intact.

A (level, seed) is finished when its marker exists; the marker is written after every file of it
and holds their sha256 checksums, so a truncated or corrupted file is detected, reported and
recomputed, never silently loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ticketlab.store import files, paths


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mark_seed_complete(run: Path, level: int, seed: int) -> None:
    root = paths.seed_dir(run, level, seed)
    written = sorted(
        p for p in root.rglob("*") if p.is_file() and p.name != "complete.json" and not p.name.startswith(".")
    )
    files.save_json(
        paths.seed_marker(run, level, seed),
        {
            "level": level,
            "seed": seed,
            "files": {str(p.relative_to(root)): sha256(p) for p in written},
        },
    )


def seed_complete(run: Path, level: int, seed: int) -> bool:
    return paths.seed_marker(run, level, seed).exists()


def verify_seed(run: Path, level: int, seed: int) -> list[str]:
    """Problems with a finished (level, seed): unreadable marker, missing or altered files."""
    marker = paths.seed_marker(run, level, seed)
    try:
        checksums = files.load_json(marker)["files"]
    except (OSError, ValueError, KeyError) as err:
        return [f"{marker}: unreadable ({err.__class__.__name__})"]
    root = paths.seed_dir(run, level, seed)
    problems = []
    for rel, digest in checksums.items():
        path = root / rel
        if not path.exists():
            problems.append(f"{path}: missing")
        elif sha256(path) != digest:
            problems.append(f"{path}: checksum mismatch (truncated or corrupted)")
    return problems


def log_event(run: Path, kind: str, **fields: Any) -> None:
    """Append one JSON line to the run's events log (small appends are atomic on POSIX)."""
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "event": kind,
        **fields,
    }
    path = paths.events_file(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def read_events(run: Path) -> list[dict[str, Any]]:
    path = paths.events_file(run)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash mid-append
    return out


def quarantine(run: Path, level: int, seed: int, problems: list[str]) -> Path:
    """Move a corrupted (level, seed) aside so it is recomputed; record why."""
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    target = paths.quarantine_dir(run, level, seed, stamp)
    os.replace(paths.seed_dir(run, level, seed), target)
    log_event(run, "corrupt_recomputed", level=level, seed=seed, problems=problems, moved_to=str(target))
    return target


def repair(run: Path, seeds: list[int], levels: int, report: Callable[[str], object] = print) -> list[str]:
    """Verify every finished (level, seed) of `seeds`; quarantine the corrupted ones so that the
    driver recomputes them. Returns the problems found."""
    found = []
    for level in range(levels):
        for seed in seeds:
            if not seed_complete(run, level, seed):
                continue
            problems = verify_seed(run, level, seed)
            if problems:
                quarantine(run, level, seed, problems)
                report(f"ticketlab: level {level} seed {seed} is corrupted and will be recomputed: {problems[0]}")
                found.extend(problems)
    return found
