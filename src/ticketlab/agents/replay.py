"""Prioritized experience replay (Schaul et al., 2016) on flashbax's sum-tree item buffer, which
lives inside the jitted training scan.

New transitions enter at the largest priority seen so far; sampling is stratified with
P(i) = p_i^alpha / sum_k p_k^alpha; importance weights are (N * P(i))^-beta normalized by the
batch's largest weight (N cancels in the normalization). Boolean observations are stored as
packed bits, so MazeGrid's 1,200-value object map costs 150 bytes.
"""

from __future__ import annotations

import math

import flashbax
import jax
import jax.numpy as jnp
from flashbax.buffers import sum_tree
from flax import struct


class Transition(struct.PyTreeNode):
    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    discount: jax.Array
    """0 where the episode terminated (no bootstrap), 1 otherwise (time-limit truncation included)."""
    next_obs: jax.Array
    """The observation after the action, before any automatic reset."""


def make_buffer(capacity: int, batch_size: int, alpha: float, new_priority: float | None = None):
    """flashbax's prioritized item buffer whose `add` gives new transitions the largest priority
    seen so far, or the fixed `new_priority` (rlpyt's `default_priority`). (flashbax 0.1.3 fills
    new priorities with `jnp.full_like` of the integer item indices, which truncates that maximum
    to an integer; `add` here writes the exact value.)"""
    buffer = flashbax.make_prioritised_item_buffer(
        max_length=capacity,
        min_length=batch_size,
        sample_batch_size=batch_size,
        add_batches=True,
        priority_exponent=alpha,
        device="cpu",
    )

    def add(state, items):
        start = state.current_index
        state = buffer.add(state, items)
        n = jax.tree_util.tree_leaves(items)[0].shape[0]
        tree = state.sum_tree_state
        indices = (start + jnp.arange(n)) % capacity
        value = tree.max_recorded_priority if new_priority is None else jnp.float32(new_priority**alpha)
        tree = sum_tree.set_batch_scan(tree, indices, jnp.full((n,), value))
        return state.replace(sum_tree_state=tree)

    return buffer.replace(add=add)


def importance_weights(probabilities: jax.Array, beta) -> jax.Array:
    """(N P)^-beta / max over the batch; computed in log space so tiny P cannot overflow.

    A sample with P = 0 gets weight 0: in float32 the sum tree's total can exceed the sum of its
    leaves, and the top stratum of flashbax's stratified sampling then lands on an empty slot.
    """
    valid = probabilities > 0
    log_w = jnp.where(valid, -beta * jnp.log(jnp.where(valid, probabilities, 1.0)), -jnp.inf)
    return jnp.where(valid, jnp.exp(log_w - jnp.max(log_w)), 0.0)


def new_priorities(td_error: jax.Array, probabilities: jax.Array, eps: float, clip: float | None = None) -> jax.Array:
    """|TD error| + eps for the sampled transitions, or (`clip`, rlpyt's rule) |TD error| clamped
    to [0, clip]; 0 (unchanged) for empty slots (P = 0)."""
    priority = jnp.abs(td_error) + eps if clip is None else jnp.clip(jnp.abs(td_error), 0.0, clip)
    return jnp.where(probabilities > 0, priority, 0.0)


def compactor(raw_shape: tuple[int, ...], dtype):
    """(pack, unpack) for storing observations: bool observations as packed bits, others as they are."""
    size = math.prod(raw_shape)
    if jnp.dtype(dtype) != jnp.bool_:
        return (lambda obs: obs), (lambda stored: stored)

    def pack(obs):
        return jnp.packbits(obs.reshape(obs.shape[: obs.ndim - len(raw_shape)] + (size,)), axis=-1)

    def unpack(stored):
        bits = jnp.unpackbits(stored, axis=-1, count=size).astype(bool)
        return bits.reshape(stored.shape[:-1] + tuple(raw_shape))

    return pack, unpack


def observation_compactor(spec):
    """`compactor` for what environment `spec` returns (a host environment: its recorded dtype)."""
    dtype = spec.obs_dtype if spec.env is None else spec.env.observation_space(spec.params).dtype
    return compactor(spec.raw_obs_shape, dtype)


def bytes_per_transition(raw_shape: tuple[int, ...], dtype) -> int:
    """Replay memory per stored transition: two observations, action, reward, discount, and the
    sum tree's leaf plus its share of inner nodes (two float32 values)."""
    size = math.prod(raw_shape)
    obs = -(-size // 8) if jnp.dtype(dtype) == jnp.bool_ else size * jnp.dtype(dtype).itemsize
    return 2 * obs + 4 + 4 + 4 + 8
