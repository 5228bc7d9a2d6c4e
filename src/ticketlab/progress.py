"""Terminal output of `ticketlab run`: a progress bar over levels and a closing results table."""
from __future__ import annotations

import statistics
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ticketlab.plots.common import CONDITION_STYLE

console = Console(stderr=False)


def _short(condition: str) -> str:
    return CONDITION_STYLE.get(condition, (None, condition))[1].split(" ")[0]


class LevelProgress:
    """Progress over IMP levels: elapsed, ETA, and the latest mean best return per condition."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("levels"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[latest]}"),
            console=console,
        )

    def __enter__(self):
        self.progress.__enter__()
        self.task = self.progress.add_task(self.cfg.name, total=self.cfg.levels, latest="compiling ...")
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def on_level(self, level: int, rows: list[dict], resumed: bool) -> None:
        by_condition: dict[str, list[float]] = {}
        for r in rows:
            by_condition.setdefault(r["condition"], []).append(r["best_return"])
        latest = "  ".join(f"{_short(c)} {statistics.mean(v):.1f}" for c, v in by_condition.items())
        tag = "resumed" if resumed else f"{rows[0]['seconds']:.1f}s"
        self.progress.update(self.task, advance=1, latest=f"L{level} ({tag}): {latest}")


def closing_table(run: Path, figures: list[Path]) -> None:
    from ticketlab.imp.results import load_metrics

    rows = load_metrics(run)
    conditions = sorted({r["condition"] for r in rows if r["condition"] != "dense"})
    table = Table(title=f"best return, mean +- sd over seeds  ({run})")
    table.add_column("level", justify="right")
    table.add_column("weights left", justify="right")
    for c in ["dense", *conditions]:
        table.add_column(_short(c) if c != "dense" else "dense", justify="right")
    for level in sorted({r["level"] for r in rows}):
        at = [r for r in rows if r["level"] == level]
        cells = []
        for c in ["dense", *conditions]:
            vals = [r["best_return"] for r in at if r["condition"] == c]
            cells.append(f"{statistics.mean(vals):.1f}±{statistics.pstdev(vals):.1f}" if vals else "")
        table.add_row(str(level), f"{100 * at[0]['density']:.1f}%", *cells)
    console.print(table)
    console.print(f"results: {run / 'results.csv'}")
    for png in figures:
        console.print(f"figure:  {png}  (+ .pdf)")
