"""The second enforcement of the mask: an optimizer whose steps never move a pruned weight.

(The first is in the forward pass: losses apply `params * mask` before calling the network, so
pruned weights also get zero gradient.) `masked(tx, mask)` is public (`ticketlab.masked`): the
one line a training loop of your own needs; the built-in agents step through it too.
"""

from __future__ import annotations

import optax

from ticketlab.pruning.masks import Tree, apply_mask


def adam(
    lr: float | optax.Schedule, max_grad_norm: float | None = None, weight_decay: float = 0.0, eps: float = 1e-8
) -> optax.GradientTransformation:
    """Adam with PyTorch's order: clip the gradient's global norm, add `weight_decay * w` (L2, as
    torch.optim.Adam(weight_decay=...)), then the Adam update (`eps` added to the root of the
    second moment, as both torch and optax do). Pruned weights are zero, so the decay never revives
    them."""
    parts = [optax.clip_by_global_norm(max_grad_norm)] if max_grad_norm else []
    if weight_decay:
        parts.append(optax.add_decayed_weights(weight_decay))
    parts.append(optax.adam(lr, eps=eps))
    return parts[0] if len(parts) == 1 else optax.chain(*parts)


def masked(tx: optax.GradientTransformation, mask: Tree) -> optax.GradientTransformation:
    """`tx` that sees zero gradients at the pruned weights (so its moments there stay exactly zero)
    and returns zero updates there (so pruned weights that start at zero stay exactly zero, weight
    decay included). `mask` is a bool tree of the params' structure (`True`: kept)."""

    def update(updates: Tree, state: optax.OptState, params: Tree = None) -> tuple[Tree, optax.OptState]:
        updates, state = tx.update(apply_mask(updates, mask), state, params)
        return apply_mask(updates, mask), state

    return optax.GradientTransformation(tx.init, update)


def masked_step(
    tx: optax.GradientTransformation, grads: Tree, opt_state: optax.OptState, params: Tree, mask: Tree
) -> tuple[Tree, optax.OptState]:
    """One step of `masked(tx, mask)`; the result is masked once more, so every pruned weight is
    exactly zero after it whatever the params held before."""
    updates, opt_state = masked(tx, mask).update(grads, opt_state, params)
    return apply_mask(optax.apply_updates(params, updates), mask), opt_state
