"""Terminal output of `ticketlab run`: a progress bar over levels and a closing results table
with the statistics of the ticket effect."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ticketlab.agents.registry import run_spec
from ticketlab.core.errors import ConfigError, check_choice
from ticketlab.pruning.conditions import CONDITIONS, short_name, style
from ticketlab.pruning.plasticity import SUMMARIES
from ticketlab.pruning.summaries import input_module
from ticketlab.reporting.analysis.ticket_stats import (
    REPS,
    THRESHOLD,
    failed_count,
    finished_seeds,
    format_retention,
    sample_sd,
    ticket_stats,
    with_failures,
)
from ticketlab.store.results import load_metrics
from ticketlab.store.rundir import load_run_config

console = Console(stderr=False)
table_console = Console(width=None if console.is_terminal else 110)


class LevelProgress:
    """Progress over IMP levels: elapsed, ETA, and the latest mean best return per condition. On a
    terminal a live bar; otherwise (a log file, a pipe, a cluster job) one plain line per finished
    level, flushed at once."""

    def __init__(self, cfg, live: bool | None = None):
        self.cfg = cfg
        self.live = console.is_terminal if live is None else live
        self.progress = (
            Progress(
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
            if self.live
            else None
        )

    def __enter__(self):
        self.start, self.done = time.monotonic(), 0
        if self.progress is not None:
            self.progress.__enter__()
            self.task = self.progress.add_task(self.cfg.name, total=self.cfg.levels, latest="compiling ...")
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc) if self.progress is not None else None

    def on_level(self, level: int, rows: list[dict], resumed: bool) -> None:
        by_condition: dict[str, list[float]] = {}
        for r in rows:
            by_condition.setdefault(r["condition"], []).append(r["best_return"])
        latest = "  ".join(f"{short_name(c)} {statistics.mean(v):.1f}" for c, v in by_condition.items())
        tag = "resumed" if resumed or not rows else f"{rows[0]['seconds']:.1f}s"
        self.done += 1
        if self.progress is not None:
            self.progress.update(self.task, advance=1, latest=f"L{level} ({tag}): {latest}")
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.cfg.levels - self.done)
        print(
            f"{self.cfg.name}: level {level} done ({self.done}/{self.cfg.levels}, {tag}), elapsed {clock(elapsed)}, "
            f"eta {clock(eta)}: {latest or 'every chain failed'}",
            flush=True,
        )


def clock(seconds: float) -> str:
    """`h:mm:ss`."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def return_cell(values: list[float], failed: int, at_own: str = "") -> str:
    """`mean ± sd` (sd with ddof = 1; none for one seed) of a cell's best returns, a failed run
    counting as the floor return, and how many of its seeds failed: `250.0 ± 288.7, failed (2 of
    4 seeds)`."""
    if not values:
        return ""
    sd = sample_sd(values)
    text = f"{statistics.mean(values):.1f}" + (f" ± {sd:.1f}" if sd is not None else "") + at_own
    return text + (f", failed ({failed} of {len(values)} seeds)" if failed else "")


def closing_table(run: Path, figures: list[Path]) -> None:
    """The mean ± sd best return per level and condition, then the row `≥95% of dense at`:
    per condition the sparsest level whose mean normalized return still reaches 95 % of dense,
    with its 95 % bootstrap CI over seeds (`analysis.ticket_stats`). A failed chain scores the
    floor return at its level and every later one and is counted in its cells."""
    spec = run_spec(load_run_config(run))
    floor = spec.return_floor
    rows = with_failures(load_metrics(run, include_failed=True), finished_seeds(run), floor)
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
            own_rows = [r for r in at if r["condition"] == c]
            own = statistics.mean(r["density"] for r in own_rows) if own_rows else density
            at_own = f" @ {100 * own:.1f}%" if abs(own - density) > 5e-4 else ""
            cells.append(return_cell([r["best_return"] for r in own_rows], failed_count(own_rows), at_own))
        table.add_row(str(level), f"{100 * density:.1f}%", *cells)
    ticket = ticket_stats(rows, floor) if conditions else None
    stats = ticket.retention if ticket else {}
    if ticket and ticket.no_retention:
        table.add_section()
        table.add_row(f"≥{100 * THRESHOLD:.0f}%", "of dense at", "", ticket.no_retention)
    if stats:
        table.add_section()
        table.add_row(
            f"≥{100 * THRESHOLD:.0f}%",
            "of dense at",
            "",
            *[format_retention(stats[c]) if c in stats else "" for c in conditions],
        )
    table_console.print(table)
    named = [c for c in conditions if short_name(c) != c]
    if named:
        table_console.print(", ".join(f"{short_name(c)} = {style(c)[1]}" for c in named))
    if stats:
        table_console.print(
            f"≥{100 * THRESHOLD:.0f}% of dense at: the fewest weights left at which the mean over seeds of "
            f"(R - floor) / (dense mean - floor), floor {floor:g}{'' if spec.floor_known else ' (assumed)'}, "
            f"is still >= {THRESHOLD} "
            f"(95% CI: stratified bootstrap over seeds, {REPS:,} resamples)"
        )
    table_console.print(f"results: {run / 'results.csv'}")
    for png in figures:
        table_console.print(f"figure:  {png}  (+ .pdf)")


def plasticity_table(run: Path, measure: str) -> None:
    """Mean ± sd over seeds of a plasticity measure (pruning/plasticity.py: dormant, srank, norm) of
    the policy network at each chain's best checkpoint, per level and condition."""
    title, read = SUMMARIES[measure]
    rows = [r for r in load_metrics(run) if r.get("plasticity")]
    if not rows:
        raise ConfigError("table", f"{run} holds no plasticity metrics (its agent does not measure them)")
    module = input_module(rows[0])
    present = {r["condition"] for r in rows}
    conditions = [c for c in ["dense", *CONDITIONS.names()] if c in present]
    table = Table(title=f"{title}, mean ± sd over seeds  ({run})")
    table.add_column("level", justify="right")
    for c in conditions:
        table.add_column(short_name(c), justify="right")
    for level in sorted({r["level"] for r in rows}):
        cells = []
        for c in conditions:
            values = [
                read(r["plasticity"]["best"][module]) for r in rows if r["level"] == level and r["condition"] == c
            ]
            sd = sample_sd(values) if values else None
            cells.append("" if not values else f"{statistics.mean(values):.3g}" + (f" ± {sd:.2g}" if sd else ""))
        table.add_row(str(level), *cells)
    table_console.print(table)


def report(run, table: str = "return") -> None:
    """Print the run's table (`ticketlab.report`): the mean +- sd best return per level and
    condition with each condition's sparsest level at 95 % of dense, or with `table` dormant,
    srank or norm a plasticity measure at the best checkpoint."""
    check_choice("table", table, TABLES)
    TABLES[table](Path(run))


TABLES: dict[str, Callable[[Path], None]] = {
    "return": lambda run: closing_table(run, []),
    **{measure: partial(plasticity_table, measure=measure) for measure in SUMMARIES},
}
"""What `report` can tabulate: the best return, or a plasticity measure at the best checkpoint."""
