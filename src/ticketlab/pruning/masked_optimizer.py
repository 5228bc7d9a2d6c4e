"""The second enforcement of the mask: after every optimizer step, pruned weights are set to zero.

(The first is in the forward pass: losses apply `params * mask` before calling the network, so
pruned weights also get zero gradient.)
"""
from __future__ import annotations

import optax

from ticketlab.pruning.masks import apply_mask


def adam(lr, max_grad_norm: float | None = None, weight_decay: float = 0.0,
         eps: float = 1e-8) -> optax.GradientTransformation:
    """Adam with PyTorch's order: clip the gradient's global norm, add `weight_decay * w` (L2, as
    torch.optim.Adam(weight_decay=...)), then the Adam update (`eps` added to the root of the
    second moment, as both torch and optax do). Pruned weights are zero, so the decay never revives
    them."""
    parts = [optax.clip_by_global_norm(max_grad_norm)] if max_grad_norm else []
    if weight_decay:
        parts.append(optax.add_decayed_weights(weight_decay))
    parts.append(optax.adam(lr, eps=eps))
    return parts[0] if len(parts) == 1 else optax.chain(*parts)


def masked_step(tx: optax.GradientTransformation, grads, opt_state, params, mask):
    """One optimizer step whose result keeps every pruned weight exactly zero."""
    updates, opt_state = tx.update(grads, opt_state, params)
    return apply_mask(optax.apply_updates(params, updates), mask), opt_state
