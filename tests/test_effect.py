"""A guard on the effect itself: the demo's conditions separate. `ticketlab run cartpole-ppo`'s
config, run as the demo runs it, must keep the paper's order: the ticket and mask/permuted hold
95 % of the dense return to sparser networks than random/re-init, which fails at the last level,
and the ticket's first layer drops the cart's position (in most seeds), never the pole's angle
first. A change that flattened the curves (as the first demo's were), made the baselines
indistinguishable, or pruned by anything but magnitude (tried: random scores) fails here."""

import numpy as np
import pytest

from ticketlab.experiments.configure import parse_run_args
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.reporting.analysis.ticket_stats import ticket_stats
from ticketlab.store.results import load_metrics

CART_POSITION, POLE_ANGLE = 0, 2


def first_level_without(chain: list[dict], index: int) -> float:
    """The first level at which input `index` has no connection left (inf: never)."""
    gone = [r["level"] for r in chain if r["input_layer"]["actor"]["kept"][index] == 0]
    return min(gone, default=np.inf)


@pytest.mark.slow  # the demo itself: about 2 min on 2 cores
def test_the_demos_conditions_separate(tmp_path):
    cfg = parse_run_args(["cartpole-ppo", "--out", str(tmp_path / "runs")])
    run = run_experiment(cfg, in_process=False)
    rows = load_metrics(run)
    retained = {c: r.percent for c, r in ticket_stats(rows, 0.0, reps=200).retention.items()}
    # the mask carries the effect: the ticket and mask/permuted hold far sparser than random/re-init
    assert retained["mask_weights"] <= retained["random_reinit"] / 2, retained
    assert retained["mask_permuted"] <= retained["random_reinit"] / 2, retained
    assert retained["permuted_permuted"] < retained["random_reinit"], retained
    last = max(r["level"] for r in rows)
    at_last = lambda condition: [r["best_return"] for r in rows if r["level"] == last and r["condition"] == condition]
    assert (
        np.mean(at_last("random_reinit"))
        < 50
        < 300
        < min(np.mean(at_last("mask_permuted")), np.mean(at_last("mask_weights")))
    )
    assert (
        np.mean(at_last("permuted_permuted"))
        < min(np.mean(at_last("mask_permuted")), np.mean(at_last("mask_weights"))) / 2
    )
    # the minimal representation: the ticket's first layer drops the cart's position, never the pole's
    # angle first. Asserted over the seeds, not per seed: one of the demo's four seeds (seed 0, the
    # same bits here and on CI) keeps two connections to the cart's position at the last level.
    chains = [
        sorted((r for r in rows if r["seed"] == seed and r["condition"] == "mask_weights"), key=lambda r: r["level"])
        for seed in range(cfg.seeds)
    ]
    cart_gone = [first_level_without(chain, CART_POSITION) for chain in chains]
    pole_gone = [first_level_without(chain, POLE_ANGLE) for chain in chains]
    assert sum(np.isfinite(cart_gone)) >= cfg.seeds / 2, cart_gone
    assert all(c < p or p == np.inf for c, p in zip(cart_gone, pole_gone)), (cart_gone, pole_gone)
    kept_at_last = lambda index: sum(chain[-1]["input_layer"]["actor"]["kept"][index] for chain in chains)
    assert kept_at_last(CART_POSITION) <= kept_at_last(POLE_ANGLE) / 4, (
        kept_at_last(CART_POSITION),
        kept_at_last(POLE_ANGLE),
    )
