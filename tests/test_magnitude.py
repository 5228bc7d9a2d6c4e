import jax
import numpy as np
import pytest

from ticketlab.pruning.magnitude import count_after_levels, global_magnitude_mask, prune_count, random_global_mask


def tree(rng):
    return {
        "actor": {
            "dense_0": {
                "kernel": rng.normal(size=(4, 6)).astype(np.float32),
                "bias": rng.normal(size=6).astype(np.float32),
            },
            "dense_1": {
                "kernel": rng.normal(size=(6, 2)).astype(np.float32),
                "bias": rng.normal(size=2).astype(np.float32),
            },
        },
        "critic": {"dense_0": {"kernel": rng.normal(size=(4, 3)).astype(np.float32), "bias": np.zeros(3, np.float32)}},
    }


PRUNABLE = {
    "actor": {"dense_0": {"kernel": True, "bias": False}, "dense_1": {"kernel": True, "bias": False}},
    "critic": {"dense_0": {"kernel": False, "bias": False}},
}


def ones(params):
    return jax.tree_util.tree_map(lambda x: np.ones(x.shape, bool), params)


def reference_mask(params, mask, keep):
    """Plain sort over (|w|, flat position) of the surviving prunable weights."""
    entries = []
    pos = 0
    for name in ("dense_0", "dense_1"):  # leaf order of the pytree
        w = params["actor"][name]["kernel"].ravel()
        m = mask["actor"][name]["kernel"].ravel()
        for i in range(w.size):
            if m[i]:
                entries.append((abs(float(w[i])), pos + i, name, i))
        pos += w.size
    entries.sort()
    drop = entries[: len(entries) - keep]
    out = jax.tree_util.tree_map(lambda x: np.array(x, copy=True), mask)
    for _, _, name, i in drop:
        flat = out["actor"][name]["kernel"].reshape(-1)
        flat[i] = False
    return out


def test_global_pruning_matches_plain_sort_over_levels():
    rng = np.random.default_rng(1)
    params = tree(rng)
    mask = ones(params)
    total = 4 * 6 + 6 * 2
    for level in range(1, 6):
        keep = count_after_levels(total, 0.2, level)
        got = global_magnitude_mask(params, mask, PRUNABLE, keep)
        ref = reference_mask(params, mask, keep)
        for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(ref)):
            assert np.asarray(a).dtype == bool
            np.testing.assert_array_equal(np.asarray(a), b)
        kept = sum(np.asarray(got["actor"][n]["kernel"]).sum() for n in ("dense_0", "dense_1"))
        assert kept == keep
        # nested: nothing comes back
        for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(mask)):
            assert not np.any(np.asarray(a) & ~np.asarray(b))
        mask = jax.tree_util.tree_map(np.asarray, got)
        params = jax.tree_util.tree_map(lambda p: p + 0.01 * rng.normal(size=p.shape).astype(np.float32), params)
    # non-prunable leaves never pruned
    assert np.asarray(mask["critic"]["dense_0"]["kernel"]).all()
    assert np.asarray(mask["actor"]["dense_0"]["bias"]).all()


def test_ties_break_by_position():
    params = {"a": {"kernel": np.ones((2, 2), np.float32)}}
    mask = ones(params)
    got = global_magnitude_mask(params, mask, {"a": {"kernel": True}}, 3)
    np.testing.assert_array_equal(np.asarray(got["a"]["kernel"]), [[False, True], [True, True]])


def test_prune_count_is_ceil_and_density_follows_0_8_power():
    assert prune_count(10, 0.2) == 2 and prune_count(11, 0.2) == 3
    total = 4480
    for level in range(21):
        count = count_after_levels(total, 0.2, level)
        assert abs(count / total - 0.8**level) <= (level + 1) / total


def test_random_global_mask_keeps_global_count():
    params = tree(np.random.default_rng(2))
    m = random_global_mask(jax.random.PRNGKey(0), params, PRUNABLE, 20)
    kept = sum(int(np.asarray(m["actor"][n]["kernel"]).sum()) for n in ("dense_0", "dense_1"))
    assert kept == 20
    assert np.asarray(m["critic"]["dense_0"]["kernel"]).all()


def test_round_counts_as_pytorch_half_to_even_and_ceil_as_open_lth():
    assert prune_count(12, 0.2, "round") == 2 and prune_count(12, 0.2, "ceil") == 3  # 2.4
    assert prune_count(5, 0.5, "round") == 2 and prune_count(7, 0.5, "round") == 4  # 2.5 -> 2, 3.5 -> 4
    assert prune_count(5, 0.5) == 3
    assert count_after_levels(36, 0.2, 3, "round") == 36 - 7 - 6 - 5  # 7.2 -> 7, 5.8 -> 6, 4.6 -> 5
    assert count_after_levels(36, 0.2, 3) == 36 - 8 - 6 - 5


def test_matches_torch_iterative_global_unstructured():
    """Three rounds of torch's global L1 pruning (each of the still-unmasked weights; torch counts
    round(0.2 n): 7, 6, 5 of 36) against three of ours with `--imp.prune-count round`."""
    torch = pytest.importorskip("torch", reason="checked against torch.nn.utils.prune: pip install -e '.[test]'")
    from torch.nn.utils import prune

    rng = np.random.default_rng(4)
    params = tree(rng)
    layers = [torch.nn.Linear(4, 6), torch.nn.Linear(6, 2)]
    with torch.no_grad():
        layers[0].weight.copy_(torch.tensor(params["actor"]["dense_0"]["kernel"].T))
        layers[1].weight.copy_(torch.tensor(params["actor"]["dense_1"]["kernel"].T))
    mask = ones(params)
    for level in (1, 2, 3):
        prune.global_unstructured([(l, "weight") for l in layers], pruning_method=prune.L1Unstructured, amount=0.2)
        mask = global_magnitude_mask(params, mask, PRUNABLE, count_after_levels(36, 0.2, level, "round"))
        np.testing.assert_array_equal(
            np.asarray(mask["actor"]["dense_0"]["kernel"]), layers[0].weight_mask.numpy().T.astype(bool)
        )
        np.testing.assert_array_equal(
            np.asarray(mask["actor"]["dense_1"]["kernel"]), layers[1].weight_mask.numpy().T.astype(bool)
        )


def test_a_random_mask_over_three_layers_keeps_exactly_keep_each_position_once():
    """Three prunable layers (as a 64,64 actor has): the uniform draw is laid out over the layers'
    concatenation, each weight drawn once, so exactly `keep` survive, spread over every layer (a
    slice offset that is reset instead of advanced reuses the second layer's draws for the third)."""
    params = {f"dense_{i}": {"kernel": np.zeros(shape, np.float32)} for i, shape in enumerate([(4, 8), (8, 8), (8, 2)])}
    prunable = {name: {"kernel": True} for name in params}
    for seed in range(5):
        mask = random_global_mask(jax.random.PRNGKey(seed), params, prunable, 50)
        kept = [int(np.asarray(mask[name]["kernel"]).sum()) for name in params]
        assert sum(kept) == 50, kept
    draw = np.asarray(jax.random.uniform(jax.random.PRNGKey(0), (32 + 64 + 16,)))
    mask = random_global_mask(jax.random.PRNGKey(0), params, prunable, 50)
    want = draw >= np.sort(draw)[-50]  # the 50 largest draws, laid out in leaf order
    got = np.concatenate([np.asarray(mask[name]["kernel"]).ravel() for name in params])
    np.testing.assert_array_equal(got, want)


def test_global_magnitude_over_three_layers_matches_numpy():
    """IMP's mask over three prunable layers (a 64,64 actor's count) is numpy's: the `keep` largest
    |w| of the concatenation, among the survivors, each layer's slice where it lies."""
    rng = np.random.default_rng(3)
    shapes = [(4, 8), (8, 8), (8, 2)]
    params = {f"dense_{i}": {"kernel": rng.normal(size=s).astype(np.float32)} for i, s in enumerate(shapes)}
    prunable = {name: {"kernel": True} for name in params}
    prev = {name: {"kernel": rng.random(s) < 0.8} for name, s in zip(params, shapes)}
    mask = global_magnitude_mask(params, prev, prunable, 40)
    flat = np.concatenate([np.where(prev[n]["kernel"], np.abs(params[n]["kernel"]), -np.inf).ravel() for n in params])
    want = np.zeros(flat.size, bool)
    want[np.argsort(flat, kind="stable")[-40:]] = True
    got = np.concatenate([np.asarray(mask[n]["kernel"]).ravel() for n in params])
    np.testing.assert_array_equal(got, want)
