"""The tidy results table, rebuilt from the per-level metrics files."""
from __future__ import annotations

import csv
import io

from pathlib import Path

from ticketlab import paths, store

COLUMNS = (
    "seed", "condition", "level", "density", "remaining_weights",
    "best_return", "final_return", "env_steps", "seconds",
)


def finished_levels(run: Path) -> list[int]:
    levels_root = Path(run) / "levels"
    if not levels_root.exists():
        return []
    found = []
    for d in sorted(levels_root.iterdir()):
        if d.name.startswith("level_") and (d / "complete.json").exists():
            found.append(int(d.name.split("_")[1]))
    return found


def load_metrics(run: Path) -> list[dict]:
    """Metrics of every run of every finished level, ordered by level, condition, seed."""
    rows = []
    for level in finished_levels(run):
        for path in sorted(paths.level_dir(run, level).glob("seed_*/*/metrics.json")):
            rows.append(store.load_json(path))
    rows.sort(key=lambda r: (r["level"], r["condition"], r["seed"]))
    return rows


def write_results_csv(run: Path) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in load_metrics(run):
        writer.writerow(row)
    store.save_text(paths.results_csv(run), buf.getvalue())
    return paths.results_csv(run)


