"""The tidy results table, rebuilt from the per-level metrics files."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ticketlab.store import files, paths

COLUMNS = (
    "seed",
    "condition",
    "level",
    "status",
    "density",
    "remaining_weights",
    "best_return",
    "final_return",
    "env_steps",
    "seconds",
)


def finished_levels(run: Path) -> list[int]:
    """Levels with at least one finished seed."""
    levels_root = Path(run) / "levels"
    if not levels_root.exists():
        return []
    return sorted(
        int(d.name.split("_")[1])
        for d in levels_root.iterdir()
        if d.name.startswith("level_") and any(d.glob("seed_*/complete.json"))
    )


def load_metrics(run: Path, include_failed: bool = False) -> list[dict[str, Any]]:
    """Metrics of every finished (level, seed), ordered by level, condition, seed; chains that
    failed (NaN or inf) are left out unless `include_failed`."""
    rows = []
    for level in finished_levels(run):
        for marker in sorted(paths.level_dir(run, level).glob("seed_*/complete.json")):
            for path in sorted(marker.parent.glob("*/metrics.json")):
                rows.append(files.load_json(path))
    rows.sort(key=lambda r: (r["level"], r["condition"], r["seed"]))
    return [r for r in rows if include_failed or r.get("status", "ok") == "ok"]


def _csv_text(rows: list[dict[str, Any]], header: bool) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def write_results_csv(run: Path) -> Path:
    """The whole table, rebuilt from every finished metrics file."""
    files.save_text(paths.results_csv(run), _csv_text(load_metrics(run, include_failed=True), header=True))
    return paths.results_csv(run)


def append_results(run: Path, level: int, seeds: list[int]) -> None:
    """Add the rows of `level`'s just-finished `seeds` to the table (the driver rebuilds it whole
    when a run starts and ends; between, each level adds only its own rows)."""
    rows = [
        files.load_json(p) for seed in seeds for p in sorted(paths.seed_dir(run, level, seed).glob("*/metrics.json"))
    ]
    if not rows:
        return
    rows.sort(key=lambda r: (r["condition"], r["seed"]))
    path = paths.results_csv(run)
    with open(path, "a") as f:  # (a row cut by a kill is mended when the run resumes: the table is rebuilt)
        f.write(_csv_text(rows, header=not path.exists() or path.stat().st_size == 0))
