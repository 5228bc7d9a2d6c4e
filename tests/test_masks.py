"""Masks as twin pytrees (pruning/masks.py), by hand on a two-module tree: which leaves are
prunable in each scope, the counts and densities the metrics and plots report, zeroing, and
flattening one tree's leaves to line up with another's (mutants of these survived the rest of the
suite: docs/fidelity.md, planted bugs)."""

import jax.numpy as jnp
import numpy as np

from ticketlab.pruning.masks import (
    apply_mask,
    flatten_like,
    is_prunable,
    layer_density,
    leaf_paths,
    ones_mask,
    prunable_count,
    prunable_total,
    prunable_tree,
)

PARAMS = {
    "actor": {"dense_0": {"bias": jnp.zeros(3), "kernel": jnp.arange(6.0).reshape(2, 3) + 1}},
    "critic": {"dense_0": {"bias": jnp.zeros(1), "kernel": jnp.ones((2, 1))}},
}


def test_paths_and_scopes_by_hand():
    assert leaf_paths(PARAMS) == [
        "actor/dense_0/bias",
        "actor/dense_0/kernel",
        "critic/dense_0/bias",
        "critic/dense_0/kernel",
    ]
    assert is_prunable("actor/dense_0/kernel", "actor") and not is_prunable("actor/dense_0/bias", "actor")
    assert not is_prunable("critic/dense_0/kernel", "actor") and is_prunable("critic/dense_0/kernel", "actor_critic")
    assert is_prunable("q/dense_1/kernel", "actor")  # DQN's acting network
    flags = prunable_tree(PARAMS, "actor")
    assert flags == {
        "actor": {"dense_0": {"bias": False, "kernel": True}},
        "critic": {"dense_0": {"bias": False, "kernel": False}},
    }


def test_counts_densities_and_zeroing_by_hand():
    mask = ones_mask(PARAMS)
    mask["actor"]["dense_0"]["kernel"] = jnp.array([[True, False, True], [False, False, True]])
    mask["critic"]["dense_0"]["kernel"] = jnp.array([[True], [False]])
    actor, both = prunable_tree(PARAMS, "actor"), prunable_tree(PARAMS, "actor_critic")
    assert prunable_count(mask, actor) == 3 and prunable_total(PARAMS, actor) == 6
    assert prunable_count(mask, both) == 4 and prunable_total(mask, both) == 8
    assert layer_density(mask, both) == {"actor/dense_0/kernel": 0.5, "critic/dense_0/kernel": 0.5}
    pruned = apply_mask(PARAMS, mask)
    np.testing.assert_array_equal(pruned["actor"]["dense_0"]["kernel"], [[1.0, 0.0, 3.0], [0.0, 0.0, 6.0]])
    np.testing.assert_array_equal(pruned["critic"]["dense_0"]["kernel"], [[1.0], [0.0]])
    assert all(
        np.asarray(m).dtype == bool and np.asarray(m).all() for m in (ones_mask(PARAMS)["actor"]["dense_0"]["bias"],)
    )


def test_flatten_like_lines_up_leaves():
    flags = prunable_tree(PARAMS, "actor")
    leaves, _, (flag_leaves, mask_leaves) = flatten_like(PARAMS, flags, ones_mask(PARAMS))
    assert flag_leaves == [False, True, False, False]
    assert [np.shape(leaf) for leaf in leaves] == [np.shape(m) for m in mask_leaves] == [(3,), (2, 3), (1,), (2, 1)]
