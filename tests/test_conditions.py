import jax
import numpy as np
import pytest
from test_magnitude import PRUNABLE, ones, tree

from ticketlab.pruning.conditions import CONDITIONS, Inputs, next_level
from ticketlab.pruning.magnitude import global_magnitude_mask


@pytest.fixture
def setup():
    rng = np.random.default_rng(5)
    init, best, fresh = tree(rng), tree(rng), tree(rng)
    prev = global_magnitude_mask(best, ones(best), PRUNABLE, 30)  # an earlier level
    prev = jax.tree_util.tree_map(np.asarray, prev)
    return init, best, fresh, prev


def leaves(t):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(t)]


def run(condition, setup, keep=20, seed=0):
    init, best, fresh, prev = setup
    scores = jax.tree_util.tree_map(np.abs, best)  # the magnitude score
    return next_level(
        condition,
        Inputs(
            key=jax.random.PRNGKey(seed),
            scores=scores,
            prev_mask=prev,
            init=init,
            fresh=fresh,
            prunable=PRUNABLE,
            keep=keep,
        ),
    )


STRUCTURED = ("structured_inputs", "structured_units")
"""Conditions that prune whole structures, at their own count (test_baselines.py)."""
ANYWHERE = ("permuted_permuted", "random_reinit", "random_ratios", "gmp", "set", "rigl", "static")
"""Conditions that place a layer's kept weights anywhere in it (a permuted or random mask; the
sparse-training methods draw a fresh random one at each level's count), so they may keep a weight
the previous level pruned; every other condition prunes within its previous mask."""
DENSE_START = ("gmp",)
"""gmp starts dense from the initialization: its mask says only each layer's target count."""


@pytest.mark.parametrize("condition", CONDITIONS.names())
def test_masks_binary_and_global_count(condition, setup):
    mask, start = run(condition, setup)
    kernels = [mask["actor"][n]["kernel"] for n in ("dense_0", "dense_1")]
    assert all(np.asarray(k).dtype == bool for k in leaves(mask))
    if condition not in STRUCTURED:
        assert sum(int(np.asarray(k).sum()) for k in kernels) == 20
    revived = sum(int(np.sum(m & ~prev)) for m, prev in zip(leaves(mask), leaves(setup[3])))
    if condition in ANYWHERE:
        assert revived > 0  # (with this seed) it kept weights the previous level had pruned
    else:
        assert revived == 0  # never revives a pruned weight
    for m, s, i in zip(leaves(mask), leaves(start), leaves(setup[0])):
        if condition in DENSE_START:
            np.testing.assert_array_equal(s, i)  # the initialization itself, dense
        else:
            assert np.all(s[~m] == 0.0)


def test_mask_weights_is_imp_mask_times_init(setup):
    init, best, _, prev = setup
    mask, start = run("mask_weights", setup)
    imp = global_magnitude_mask(best, prev, PRUNABLE, 20)
    for a, b in zip(leaves(mask), leaves(imp)):
        np.testing.assert_array_equal(a, b)
    for s, i, m in zip(leaves(start), leaves(init), leaves(mask)):
        np.testing.assert_array_equal(s, np.where(m, i, 0.0))


def test_mask_permuted_keeps_mask_and_permutes_values_within_layer(setup):
    init, best, _, prev = setup
    mask, start = run("mask_permuted", setup)
    imp = global_magnitude_mask(best, prev, PRUNABLE, 20)
    moved = 0
    for name in ("dense_0", "dense_1"):
        m = np.asarray(mask["actor"][name]["kernel"])
        np.testing.assert_array_equal(m, np.asarray(imp["actor"][name]["kernel"]))
        s, i = np.asarray(start["actor"][name]["kernel"]), init["actor"][name]["kernel"]
        np.testing.assert_array_equal(np.sort(s[m]), np.sort(i[m]))  # same values, same layer
        moved += int(np.sum(s[m] != i[m]))
    assert moved > 0
    np.testing.assert_array_equal(np.asarray(start["actor"]["dense_0"]["bias"]), init["actor"]["dense_0"]["bias"])


def test_permuted_permuted_keeps_layer_counts(setup):
    init, best, _, prev = setup
    mask, start = run("permuted_permuted", setup)
    imp = global_magnitude_mask(best, prev, PRUNABLE, 20)
    differs = False
    for name in ("dense_0", "dense_1"):
        m, ref = np.asarray(mask["actor"][name]["kernel"]), np.asarray(imp["actor"][name]["kernel"])
        assert m.sum() == ref.sum()
        differs |= bool(np.any(m != ref))
        s, i = np.asarray(start["actor"][name]["kernel"]), init["actor"][name]["kernel"]
        np.testing.assert_array_equal(np.sort(s[m]), np.sort(i[ref]))
    assert differs


def test_reinit_conditions_use_fresh_weights(setup):
    init, _, fresh, _ = setup
    for condition in ("random_reinit", "mask_reinit"):
        mask, start = run(condition, setup)
        for s, f, m in zip(leaves(start), leaves(fresh), leaves(mask)):
            np.testing.assert_array_equal(s, np.where(m, f, 0.0))


def test_randomness_depends_on_key_only(setup):
    a = run("permuted_permuted", setup, seed=1)
    b = run("permuted_permuted", setup, seed=1)
    c = run("permuted_permuted", setup, seed=2)
    for x, y in zip(leaves(a), leaves(b)):
        np.testing.assert_array_equal(x, y)
    assert any(np.any(x != y) for x, y in zip(leaves(a), leaves(c)))


def test_random_reinit_draws_its_mask_at_random_not_by_magnitude(setup):
    """Its mask is a uniform draw of the level's count over all layers: not the IMP mask (the
    paper's point of the baseline), different per key, and no more aligned with |w| than chance."""
    _, best, _, prev = setup
    imp = global_magnitude_mask(best, prev, PRUNABLE, 20)
    masks = [run("random_reinit", setup, seed=s)[0] for s in (1, 2, 3)]
    for mask in masks:
        assert sum(int(np.asarray(k).sum()) for k in leaves(mask) if k.dtype == bool and not k.all()) <= 20
        assert any(np.any(a != b) for a, b in zip(leaves(mask), leaves(imp)))
    assert any(np.any(a != b) for a, b in zip(leaves(masks[0]), leaves(masks[1])))
    # over many draws, the kept weights' mean |w| is the layer's mean |w|, not the top of it
    kept_means = []
    for s in range(12):
        mask, _ = run("random_reinit", setup, seed=10 + s)
        w = np.abs(np.asarray(best["actor"]["dense_0"]["kernel"]))
        m = np.asarray(mask["actor"]["dense_0"]["kernel"])
        if m.any():
            kept_means.append(w[m].mean())
    top = np.sort(np.abs(np.asarray(best["actor"]["dense_0"]["kernel"])).ravel())[::-1]
    assert np.mean(kept_means) < top[: max(1, int(np.asarray(imp["actor"]["dense_0"]["kernel"]).sum()))].mean()
