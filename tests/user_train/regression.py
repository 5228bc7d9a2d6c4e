"""A training function of a user's own, importable by name (so worker processes can train it):
a two-layer tanh net fitted by masked Adam to a fixed regression task whose target depends on
inputs 0 and 2 only; its "return" is minus the loss. Fast enough for many tests."""
import jax
import jax.numpy as jnp
import optax

import ticketlab

X = jax.random.normal(jax.random.PRNGKey(7), (256, 4))
Y = jnp.stack([jnp.sin(X[:, 0]) + 0.5 * X[:, 2], X[:, 2] - X[:, 0]], axis=1)


def init(key):
    k0, k1 = jax.random.split(key)
    return {"actor": {"dense_0": {"kernel": jax.random.normal(k0, (4, 16)) * 0.5, "bias": jnp.zeros(16)},
                      "dense_1": {"kernel": jax.random.normal(k1, (16, 2)) * 0.25, "bias": jnp.zeros(2)}}}


def forward(params, x):
    a = params["actor"]
    return jnp.tanh(x @ a["dense_0"]["kernel"] + a["dense_0"]["bias"]) @ a["dense_1"]["kernel"] + a["dense_1"]["bias"]


def loss(key, params, mask):
    idx = jax.random.choice(key, X.shape[0], (64,), replace=False)
    return jnp.mean((forward(ticketlab.apply_mask(params, mask), X[idx]) - Y[idx]) ** 2)


def train(key, params, mask, steps=200, forget_mask=False):
    """Masked Adam on the masked forward pass; `forget_mask`: neither (a bug ticketlab must catch)."""
    tx = optax.adam(3e-2) if forget_mask else ticketlab.masked(optax.adam(3e-2), mask)
    mask_of_loss = jax.tree_util.tree_map(lambda m: jnp.ones_like(m), mask) if forget_mask else mask

    def step(carry, k):
        p, state, best, best_ret = carry
        grads = jax.grad(lambda q: loss(k, q, mask_of_loss))(p)
        updates, state = tx.update(grads, state, p)
        p = optax.apply_updates(p, updates)
        ret = -jnp.mean((forward(p, X) - Y) ** 2)
        better = ret > best_ret
        best = jax.tree_util.tree_map(lambda b, q: jnp.where(better, q, b), best, p)
        return (p, state, best, jnp.maximum(best_ret, ret)), ret

    carry = (params, tx.init(params), params, -jnp.inf)
    (p, _, best, best_ret), curve = jax.lax.scan(step, carry, jax.random.split(key, steps))
    return ticketlab.TrainResult(best_params=best, best_return=best_ret, curve=curve[9::10], final_params=p)


def train_forgetting_the_mask(key, params, mask):
    """The same loop, unmasked: pruned weights get gradients and regrow."""
    return train(key, params, mask, forget_mask=True)


PRUNABLE = {"actor": {"dense_0": {"kernel": True, "bias": False}, "dense_1": {"kernel": True, "bias": False}}}


def train_rigl(key, params, mask, steps=200):
    """RigL through `ticketlab.sparse`: the mask IMP gives is where it starts; the forward pass uses
    the (sparse) params as they are, so the gradient is dense where RigL looks for weights to grow."""
    schedule = ticketlab.SparseSchedule.of(steps, 0.0, 0.8, 0.05, 0.3, "cosine")
    counts = jnp.array([jnp.sum(mask["actor"][n]["kernel"]) for n in ("dense_0", "dense_1")], jnp.int32)
    tx = ticketlab.sparse(optax.adam(3e-2), "rigl", schedule, PRUNABLE, counts)

    def step(carry, k):
        p, state, best, best_mask, best_ret = carry
        grads = jax.grad(lambda q: loss(k, q, jax.tree_util.tree_map(jnp.ones_like, mask)))(p)
        updates, state = tx.update(grads, state, p)
        p = optax.apply_updates(p, updates)
        ret = -jnp.mean((forward(p, X) - Y) ** 2)
        better = ret > best_ret
        best = jax.tree_util.tree_map(lambda b, q: jnp.where(better, q, b), best, p)
        best_mask = jax.tree_util.tree_map(lambda b, m: jnp.where(better, m, b), best_mask, state.mask)
        return (p, state, best, best_mask, jnp.maximum(best_ret, ret)), ret

    carry = (params, tx.init(params, mask=mask, key=key), params, mask, -jnp.inf)
    (p, _, best, best_mask, best_ret), curve = jax.lax.scan(step, carry, jax.random.split(key, steps))
    return ticketlab.TrainResult(
        best_params=best, best_return=best_ret, curve=curve[9::10], final_params=best, best_mask=best_mask
    )
