"""How alike masks are, read from a run's store: per level and layer, the Jaccard overlap
|A and B| / |A or B| of the policy network's masks between the seeds of one condition, and between
each condition and the ticket (mask_weights) of the same seed, at the same density (does RigL find
the ticket's connections?). Two independent random masks of density d overlap by d / (2 - d) in
expectation: the chance line."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ticketlab.pruning.conditions import DENSE
from ticketlab.pruning.summaries import input_module
from ticketlab.store import files, paths

TICKET = "mask_weights"
ALL = "all layers"


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def chance(density: float) -> float:
    """The expected Jaccard overlap of two independent random masks of this density."""
    return density / (2.0 - density)


def overlap_rows(run: Path, rows: list[dict]) -> list[dict]:
    """One row per (level, condition, kind, layer): kind `seeds` (mean over pairs of seeds) or
    `ticket` (mean over seeds, against the ticket's mask), with the level's density."""
    rows = [r for r in rows if r["condition"] != DENSE and r.get("status", "ok") == "ok"]
    if not rows:
        return []
    module = input_module(rows[0])
    masks: dict[tuple[int, str, int], dict[str, np.ndarray]] = {}
    for r in rows:
        tree = files.load_tree(paths.tree_file(run, r["level"], r["seed"], r["condition"], "mask"))[module]
        layers = {
            name: np.asarray(layer["kernel"], bool) for name, layer in sorted(tree.items()) if isinstance(layer, dict)
        }
        layers[ALL] = np.concatenate([m.ravel() for m in layers.values()])
        masks[(r["level"], r["condition"], r["seed"])] = layers
    density = {(r["level"], r["condition"]): r["density"] for r in rows}
    out = []
    for level, condition in sorted(density):
        seeds = sorted(s for lv, c, s in masks if lv == level and c == condition)
        for layer in masks[(level, condition, seeds[0])]:
            pairs = [
                jaccard(masks[(level, condition, a)][layer], masks[(level, condition, b)][layer])
                for a, b in itertools.combinations(seeds, 2)
            ]
            if pairs:
                out.append(_row(level, condition, "seeds", layer, pairs, density[(level, condition)]))
            if condition != TICKET:
                against = [
                    jaccard(masks[(level, condition, s)][layer], masks[(level, TICKET, s)][layer])
                    for s in seeds
                    if (level, TICKET, s) in masks
                ]
                if against:
                    out.append(_row(level, condition, "ticket", layer, against, density[(level, condition)]))
    return out


def _row(level: int, condition: str, kind: str, layer: str, values: list[float], density: float) -> dict:
    return {
        "level": level,
        "condition": condition,
        "kind": kind,
        "layer": layer,
        "jaccard": float(np.mean(values)),
        "n": len(values),
        "density": density,
    }
