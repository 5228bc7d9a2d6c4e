"""The second enforcement of the mask: after every optimizer step, pruned weights are set to zero.

(The first is in the forward pass: losses apply `params * mask` before calling the network, so
pruned weights also get zero gradient.)
"""
from __future__ import annotations

import optax

from ticketlab.pruning.masks import apply_mask


def masked_step(tx: optax.GradientTransformation, grads, opt_state, params, mask):
    """One optimizer step whose result keeps every pruned weight exactly zero."""
    updates, opt_state = tx.update(grads, opt_state, params)
    return apply_mask(optax.apply_updates(params, updates), mask), opt_state
