"""Randomness from identity: every key is derived from (seed, condition, level, purpose), so a run
draws the same numbers alone, vmapped with others, or resumed. A condition's part is its fixed
registry id, never its position in a list."""

from __future__ import annotations

import jax

from ticketlab.pruning.conditions import condition_id

INIT, TRAIN, NEXT_LEVEL, FRESH_INIT, DATA, SCORE_BATCH = 0, 1, 2, 3, 4, 5
INPUT_STUDY, INPUT_CHOICE = 6, 7
PLASTICITY = 8
"""The batch of the agent's own observations its plasticity metrics are measured on."""
"""Dense training on a level's selected inputs (selected_inputs.py): its training key, shared by
the arms of a seed, and the draw of the random inputs."""


def run_key(seed: int, condition: str, level: int, purpose: int) -> jax.Array:
    key = jax.random.PRNGKey(seed)
    for value in (condition_id(condition), level, purpose):
        key = jax.random.fold_in(key, value)
    return key
