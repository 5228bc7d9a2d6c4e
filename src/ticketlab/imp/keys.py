"""Randomness from identity: every key is derived from (seed, condition, level, purpose), so a run
draws the same numbers alone, vmapped with others, or resumed."""
from __future__ import annotations

import jax

from ticketlab.pruning.conditions import CONDITION_IDS, DENSE

INIT, TRAIN, NEXT_LEVEL, FRESH_INIT, DATA = 0, 1, 2, 3, 4
_DENSE_ID = 1000


def run_key(seed: int, condition: str, level: int, purpose: int) -> jax.Array:
    cid = _DENSE_ID if condition == DENSE else CONDITION_IDS[condition]
    key = jax.random.PRNGKey(seed)
    for value in (cid, level, purpose):
        key = jax.random.fold_in(key, value)
    return key
