"""Terminal output of `ticketlab run`: a progress bar over levels and a closing results table."""
from __future__ import annotations

import statistics
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ticketlab.imp.results import load_metrics
from ticketlab.pruning.conditions import CONDITIONS, short_name, style

console = Console(stderr=False)
table_console = Console(width=None if console.is_terminal else 110)


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
        latest = "  ".join(f"{short_name(c)} {statistics.mean(v):.1f}" for c, v in by_condition.items())
        tag = "resumed" if resumed or not rows else f"{rows[0]['seconds']:.1f}s"
        self.progress.update(self.task, advance=1, latest=f"L{level} ({tag}): {latest}")


def closing_table(run: Path, figures: list[Path]) -> None:
    rows = load_metrics(run)
    present = {r["condition"] for r in rows}
    conditions = [c for c in CONDITIONS.names() if c in present] + sorted(present - set(CONDITIONS.names()) - {"dense"})
    table = Table(title=f"best evaluation return, mean ± sd over seeds  ({run})")
    table.add_column("level", justify="right")
    table.add_column("weights left", justify="right")
    for c in ["dense", *conditions]:
        table.add_column(short_name(c), justify="right")
    for level in sorted({r["level"] for r in rows}):
        at = [r for r in rows if r["level"] == level]
        density = statistics.mode(round(r["density"], 4) for r in at)  # the IMP count's (structured chains differ)
        cells = []
        for c in ["dense", *conditions]:
            vals = [r["best_return"] for r in at if r["condition"] == c]
            own = statistics.mean(r["density"] for r in at if r["condition"] == c) if vals else density
            at_own = f" @ {100 * own:.1f}%" if abs(own - density) > 5e-4 else ""
            cells.append(f"{statistics.mean(vals):.1f} ± {statistics.pstdev(vals):.1f}{at_own}" if vals else "")
        table.add_row(str(level), f"{100 * density:.1f}%", *cells)
    table_console.print(table)
    named = [c for c in conditions if short_name(c) != c]
    if named:
        table_console.print(", ".join(f"{short_name(c)} = {style(c)[1]}" for c in named))
    table_console.print(f"results: {run / 'results.csv'}")
    for png in figures:
        table_console.print(f"figure:  {png}  (+ .pdf)")
