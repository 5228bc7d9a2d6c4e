"""Statistics of the ticket effect, from metrics rows alone: the normalized return of every
(condition, level) with a 95 % stratified bootstrap confidence interval over seeds, and one number
per condition: the sparsest level at which its mean normalized return still reaches 95 % of dense,
with a bootstrap interval over seeds.

Normalization is the ticket figure's: R -> (R - floor) / (dense mean - floor), floor the
environment's worst return (`normalizer`; the ticket figure imports it from here). Where the dense
mean is not above the floor there is nothing to normalize by: the returns stay raw, figures say
so, and no condition gets a "95 % of dense" number (`TicketStats.no_retention` says why).

Failed chains (metrics `status: failed`: NaN or inf stopped the chain) are never dropped: a failed
run scores the floor return at the level where it failed and at every later level its seed
finished (`with_failures` adds those rows, `status: failed`), so every mean is over every seed
that reached the level, a failure counting as the worst possible return (normalized 0); tables
print how many seeds failed beside the mean. A dense run that failed at level 0 fails every
condition of its seed.

The bootstrap is rliable's stratified bootstrap (`rliable.library.StratifiedBootstrap` with
`task_bootstrap=False`, percentile intervals): runs resampled with replacement independently
within each task (stratum), the statistic recomputed on each resample. It is written out in numpy
here (vectorized over resamples) and checked against rliable in the tests; rliable itself is in
the `stats` extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ticketlab.pruning.conditions import DENSE
from ticketlab.pruning.summaries import input_module

THRESHOLD = 0.95
"""The share of the dense return a condition must keep (`retention`)."""
REPS = 10_000
"""Bootstrap resamples."""
CI_SIZE = 0.95


@dataclass(frozen=True)
class Normalization:
    """R -> (R - floor) / scale of a row's best return, scale = dense mean - floor; raw returns (R
    itself) when `scale` is None: no dense run, or a dense mean not above the floor."""

    floor: float
    scale: float | None

    @property
    def raw(self) -> bool:
        return self.scale is None

    def __call__(self, row: dict) -> float:
        return row["best_return"] if self.scale is None else (row["best_return"] - self.floor) / self.scale

    def axis_label(self, floor_known: bool = True, of: str = "") -> str:
        """The y label of figures drawn with it."""
        if self.scale is None:
            return f"best return (raw: no dense mean above the floor {self.floor:g})"
        return f"best return / dense mean{of}" + ("" if floor_known else " (floor assumed 0)")

    def why_raw(self) -> str:
        return (
            f"no value: the dense mean is not above the floor {self.floor:g}, so returns are not "
            "normalized (set --env.return-floor below the worst return)"
        )


def normalizer(rows: list[dict], floor: float) -> Normalization:
    """R -> (R - floor) / (dense mean - floor) of a row's best return; floor is the env's worst
    return (the environment registry's fact: 0 for Cart-Pole, -500 for Acrobot). The dense mean is
    over the level-0 rows given (with `with_failures`, a failed dense run counts as the floor)."""
    dense = [r["best_return"] for r in rows if r["level"] == 0]
    scale = float(np.mean(dense)) - floor if dense else 0.0
    return Normalization(floor, scale if scale > 1e-9 * max(1.0, abs(floor)) else None)


def finished_seeds(run: Path) -> set[tuple[int, int]]:
    """(level, seed) pairs of a run whose `complete.json` exists (a finished level of a seed)."""
    out = set()
    for marker in Path(run).glob("levels/level_*/seed_*/complete.json"):
        out.add((int(marker.parent.parent.name.split("_")[1]), int(marker.parent.name.split("_")[1])))
    return out


def with_failures(rows: list[dict], finished: set[tuple[int, int]], floor: float) -> list[dict]:
    """`rows` (metrics including failed ones) with every failed chain scoring `floor`: its failed
    row gets best_return = floor, and each later level its seed finished gets a row of status
    "failed" (best_return floor, the level's density) for that condition (every condition when
    the dense level 0 failed). Ordered by level, condition, seed."""
    out = [dict(r, best_return=floor) if r.get("status", "ok") == "failed" else dict(r) for r in rows]
    conditions = sorted({r["condition"] for r in rows if r["level"] > 0})
    have = {(r["level"], r["seed"], r["condition"]) for r in rows}
    for failed in [r for r in rows if r.get("status", "ok") == "failed"]:
        chains = conditions if failed["level"] == 0 else [failed["condition"]]
        for level, seed in sorted(finished):
            if seed != failed["seed"] or level <= failed["level"]:
                continue
            for condition in chains:
                if (level, seed, condition) in have:
                    continue
                have.add((level, seed, condition))
                out.append(
                    {
                        "seed": seed,
                        "condition": condition,
                        "level": level,
                        "status": "failed",
                        "best_return": floor,
                        "density": _level_density(rows, level, condition),
                        "failure": f"chain failed at level {failed['level']}",
                    }
                )
    return sorted(out, key=lambda r: (r["level"], r["condition"], r["seed"]))


def _level_density(rows, level, condition) -> float:
    """The density a condition's rows have at `level` (else any row's there: the IMP count's)."""
    own = [r["density"] for r in rows if r["level"] == level and r["condition"] == condition]
    at = own or [r["density"] for r in rows if r["level"] == level]
    return float(np.median(at)) if at else float("nan")


def failed_count(rows: list[dict]) -> int:
    """How many of `rows` are failed runs."""
    return sum(r.get("status", "ok") == "failed" for r in rows)


def sample_sd(values) -> float | None:
    """The sample standard deviation (ddof = 1); None for fewer than two values."""
    values = np.asarray(values, float)
    return float(np.std(values, ddof=1)) if values.size > 1 else None


def stratified_resamples(scores: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """[reps, runs, tasks, ...] resamples of `scores` [runs, tasks, ...]: within each task, runs
    drawn with replacement, independently per task (the strata)."""
    runs, tasks = scores.shape[:2]
    idx = rng.integers(0, runs, size=(reps, runs, tasks))
    return scores[idx, np.arange(tasks)[None, None, :]]


def bootstrap_interval(scores, statistic, reps: int = REPS, size: float = CI_SIZE, seed: int = 0):
    """(point, low, high): `statistic` (batched: [reps, runs, tasks, ...] -> [reps, ...]) of
    `scores` [runs, tasks, ...], and the percentile interval of `size` over stratified resamples."""
    scores = np.asarray(scores, float)
    point = statistic(scores[None])[0]
    samples = statistic(stratified_resamples(scores, reps, np.random.default_rng(seed)))
    low, high = np.nanpercentile(samples, [50 * (1 - size), 50 * (1 + size)], axis=0)
    return point, low, high


def _run_mean(batch: np.ndarray) -> np.ndarray:
    """Mean over runs (axis 1), missing (NaN) runs left out; NaN where none is there."""
    present = ~np.isnan(batch)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, batch, 0.0).sum(axis=1) / present.sum(axis=1)


@dataclass(frozen=True)
class LevelStat:
    """A condition's normalized best return at one level: mean and 95 % bootstrap CI over seeds."""

    condition: str
    level: int
    percent: float
    """Percent of prunable weights remaining (mean over seeds)."""
    mean: float
    low: float
    high: float
    seeds: int
    failed: int


@dataclass(frozen=True)
class Retention:
    """The sparsest level at which a condition's mean normalized return reaches THRESHOLD: its
    percent of weights remaining, with a 95 % bootstrap CI over seeds."""

    condition: str
    percent: float
    low: float
    high: float
    seeds: int
    failed: int
    """Seeds of this condition with a failed run at some level."""


@dataclass(frozen=True)
class Chain:
    """One condition's chain (the dense level 0, then its own levels) as a seed x level matrix."""

    condition: str
    levels: np.ndarray
    percents: np.ndarray
    scores: np.ndarray
    """[seeds, levels] normalized best returns; NaN where a seed has not finished the level."""
    failed: np.ndarray
    """[seeds, levels] bool: the run failed (its score is the floor's, 0)."""


def chain_matrices(rows: list[dict], floor: float) -> list[Chain]:
    """Every condition's chain, normalized (rows as `with_failures` returns them); conditions in
    the order they first appear at level 1 (the caller orders rows)."""
    norm = normalizer(rows, floor)
    seeds = sorted({r["seed"] for r in rows})
    conditions = list(dict.fromkeys(r["condition"] for r in rows if r["level"] > 0)) or [DENSE]
    dense = [r for r in rows if r["level"] == 0]
    out = []
    for condition in conditions:
        chain = dense + [r for r in rows if r["level"] > 0 and r["condition"] == condition]
        levels = np.array(sorted({r["level"] for r in chain}))
        scores = np.full((len(seeds), len(levels)), np.nan)
        failed = np.zeros(scores.shape, bool)
        for r in chain:
            i, j = seeds.index(r["seed"]), int(np.searchsorted(levels, r["level"]))
            scores[i, j], failed[i, j] = norm(r), r.get("status", "ok") == "failed"
        percents = np.array([100 * np.mean([r["density"] for r in chain if r["level"] == lv]) for lv in levels])
        out.append(Chain(condition, levels, percents, scores, failed))
    return out


def level_stats(chain: Chain, reps: int = REPS, seed: int = 0) -> list[LevelStat]:
    """Mean and 95 % stratified bootstrap CI (levels are the strata, seeds the runs) of the
    normalized return at each level of a chain."""
    mean, low, high = bootstrap_interval(chain.scores, _run_mean, reps, seed=seed)
    present = ~np.isnan(chain.scores)
    return [
        LevelStat(
            chain.condition,
            int(lv),
            float(chain.percents[j]),
            float(mean[j]),
            float(low[j]),
            float(high[j]),
            int(present[:, j].sum()),
            int(chain.failed[:, j].sum()),
        )
        for j, lv in enumerate(chain.levels)
        if present[:, j].any()
    ]


def sparsest_reaching(means: np.ndarray, percents: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """[...]: the lowest percent among the levels whose mean (last axis) is >= threshold; 100
    (the dense network) where no level reaches it. `means` [..., levels], `percents` [levels]."""
    reaches = np.nan_to_num(means, nan=-np.inf) >= threshold
    return np.where(reaches, percents, np.inf).min(axis=-1).clip(max=100.0)


def retention(chain: Chain, threshold: float = THRESHOLD, reps: int = REPS, seed: int = 0) -> Retention:
    """The sparsest level of a chain whose mean normalized return over seeds is >= threshold, and
    its 95 % bootstrap CI: seeds (whole chains) resampled with replacement, the number recomputed."""

    def statistic(batch):  # [reps, seeds, 1, levels] -> [reps]
        return sparsest_reaching(_run_mean(batch[:, :, 0]), chain.percents, threshold)

    point, low, high = bootstrap_interval(chain.scores[:, None, :], statistic, reps, seed=seed)
    return Retention(
        chain.condition,
        float(point),
        float(low),
        float(high),
        int((~np.isnan(chain.scores)).any(axis=1).sum()),
        int(chain.failed.any(axis=1).sum()),
    )


@dataclass(frozen=True)
class TicketStats:
    """Statistics of one run: per (condition, level) and per condition."""

    levels: list[LevelStat]
    retention: dict[str, Retention]
    """Empty when returns are raw (`no_retention` says why)."""
    no_retention: str = ""


def ticket_stats(rows: list[dict], floor: float, reps: int = REPS, seed: int = 0) -> TicketStats:
    """Both statistics of every condition of one run (`rows` as `with_failures` returns them)."""
    chains = [c for c in chain_matrices(rows, floor) if c.condition != DENSE]
    norm = normalizer(rows, floor)
    if norm.raw:
        return TicketStats([s for c in chains for s in level_stats(c, reps, seed)], {}, norm.why_raw())
    return TicketStats(
        [s for c in chains for s in level_stats(c, reps, seed)],
        {c.condition: retention(c, reps=reps, seed=seed) for c in chains},
    )


def format_retention(r: Retention) -> str:
    """`13.4% (10.7-16.8)`: the percent and its CI, plus the failed seeds when there are any."""
    failed = f", failed ({r.failed} of {r.seeds} seeds)" if r.failed else ""
    return f"{r.percent:.3g}% ({r.low:.3g}-{r.high:.3g}){failed}"


SELECTION_SHARE = 0.95
"""`selection_level`: the chain must still reach this share of the dense mean return."""


def selection_level(rows: list[dict], floor: float, condition: str = "mask_weights") -> int | None:
    """The level whose kept inputs best show a minimal representation: among the levels at which
    the median seed of `condition` still reaches SELECTION_SHARE of the dense mean (normalized
    as the ticket plot, from `floor`), the one whose seeds keep the fewest inputs on average (the
    less sparse of equals); None when no pruned level qualifies, or returns cannot be normalized."""
    norm = normalizer([r for r in rows if r["condition"] == DENSE], floor)
    if norm.raw:
        return None
    best = None
    for level in sorted({r["level"] for r in rows if r["condition"] == condition}):
        at = [r for r in rows if r["condition"] == condition and r["level"] == level]
        if np.median([norm(r) for r in at]) < SELECTION_SHARE:
            continue
        module = input_module(at[0])
        kept = float(np.mean([np.count_nonzero(r["input_layer"][module]["kept"]) for r in at]))
        if best is None or kept < best[0]:
            best = (kept, level)
    return None if best is None else best[1]
