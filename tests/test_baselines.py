"""The pruning baselines (issue 13, section 3): one-shot magnitude pruning, SNIP and GraSP at init,
random pruning with the IMP layer ratios, structured pruning of input dimensions and hidden units;
and the permuted conditions' choice of values. Each against a hand-computed small case, then on
disk through a real run."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config
from test_magnitude import PRUNABLE, ones, tree

import ticketlab
from ticketlab.pruning.conditions import CONDITIONS, Inputs, next_level, structures_kept
from ticketlab.pruning.magnitude import count_after_levels, global_magnitude_mask
from ticketlab.pruning.masks import prunable_total
from ticketlab.pruning.scores import SCORES, ScoreBatch, hessian_gradient, loss_gradient, score_inputs
from ticketlab.reporting.plots import plot_run
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

# A 2-layer linear net f(x) = x W1 w2, loss L = (f(x) - y)^2 / 2, at x = (1, 2), y = 0.5.
X, Y = np.array([1.0, 2.0]), 0.5
W1, W2 = np.array([[1.0, 0.0], [2.0, -1.0]]), np.array([[1.0], [3.0]])
NET = {"net": {"dense_0": {"kernel": jnp.array(W1)}, "dense_1": {"kernel": jnp.array(W2)}}}


def net_loss(p):
    return 0.5 * (jnp.array(X) @ p["net"]["dense_0"]["kernel"] @ p["net"]["dense_1"]["kernel"] - Y)[0] ** 2


def hand_derivatives(tangent_mask=(True, True)):
    """g and H t by hand: r = x W1 w2 - y; dr/dW1_ij = x_i w2_j, dr/dw2_j = (x W1)_j; g = r dr;
    H = dr dr^T + r d2r with d2r/(dW1_ij dw2_k) = x_i [j == k]; t = g on the chosen layers."""
    r = float(X @ W1 @ W2[:, 0] - Y)
    dr_w1, dr_w2 = np.outer(X, W2[:, 0]), X @ W1
    g_w1, g_w2 = r * dr_w1, r * dr_w2
    t_w1 = g_w1 if tangent_mask[0] else np.zeros_like(g_w1)
    t_w2 = g_w2 if tangent_mask[1] else np.zeros_like(g_w2)
    dr_dot_t = np.sum(dr_w1 * t_w1) + np.sum(dr_w2 * t_w2)
    hg_w1 = dr_w1 * dr_dot_t + r * np.outer(X, t_w2)  # (d2r t)_W1_ij = x_i t_w2_j
    hg_w2 = dr_w2 * dr_dot_t + r * (X @ t_w1)  # (d2r t)_w2_k = sum_i x_i t_W1_ik
    return (g_w1, g_w2[:, None]), (hg_w1, hg_w2[:, None])


def test_the_gradient_of_the_two_layer_net_is_the_hand_computed_one():
    (g1, g2), _ = hand_derivatives()
    np.testing.assert_allclose(g1, [[-1.5, -4.5], [-3.0, -9.0]])  # r = 5 - 6 - 0.5 = -1.5
    np.testing.assert_allclose(g2, [[-7.5], [3.0]])
    g = loss_gradient(ScoreBatch(net_loss), NET, {"net": {"dense_0": {"kernel": True}, "dense_1": {"kernel": True}}})
    np.testing.assert_allclose(g["net"]["dense_0"]["kernel"], g1, rtol=1e-6)
    np.testing.assert_allclose(g["net"]["dense_1"]["kernel"], g2, rtol=1e-6)


@pytest.mark.parametrize("prunable_w2", [True, False])
def test_the_hessian_gradient_product_is_the_hand_computed_one(prunable_w2):
    """GraSP's H g; with w2 unpruned, the tangent is g on W1 only (GraSP's weight list)."""
    prunable = {"net": {"dense_0": {"kernel": True}, "dense_1": {"kernel": prunable_w2}}}
    _, (h1, h2) = hand_derivatives((True, prunable_w2))
    if prunable_w2:
        np.testing.assert_allclose(h1, [[-107.25, -360.0], [-214.5, -720.0]])
        np.testing.assert_allclose(h2, [[-581.25], [270.75]])
    hg = hessian_gradient(ScoreBatch(net_loss), NET, prunable)
    np.testing.assert_allclose(hg["net"]["dense_0"]["kernel"], h1, rtol=1e-5)
    np.testing.assert_allclose(hg["net"]["dense_1"]["kernel"], h2, rtol=1e-5)


def hand_condition(condition, keep):
    prunable = {"net": {"dense_0": {"kernel": True}, "dense_1": {"kernel": True}}}
    score = SCORES.get(CONDITIONS.get(condition).score)
    inputs = score_inputs(score, ScoreBatch(net_loss), NET, prunable)
    dense = jax.tree_util.tree_map(lambda w: jnp.ones(w.shape, bool), NET)
    return next_level(
        condition,
        Inputs(
            key=jax.random.PRNGKey(0),
            scores=score.fn(NET, inputs),
            prev_mask=dense,
            init=NET,
            fresh=NET,
            prunable=prunable,
            keep=keep,
        ),
    )


def test_snip_keeps_the_largest_gradient_times_weight():
    # |g w|: W1 [[1.5, 0], [6, 9]], w2 [7.5, 9]: the three largest are W1[1, 1], w2[1], w2[0]
    mask, start = hand_condition("snip", 3)
    np.testing.assert_array_equal(mask["net"]["dense_0"]["kernel"], [[False, False], [False, True]])
    np.testing.assert_array_equal(mask["net"]["dense_1"]["kernel"], [[True], [True]])
    np.testing.assert_allclose(start["net"]["dense_0"]["kernel"], [[0.0, 0.0], [0.0, -1.0]])


def test_grasp_keeps_the_largest_weight_times_hessian_gradient():
    # w * Hg: W1 [[-107.25, 0], [-429, 720]], w2 [-581.25, 812.25]: keep w2[1], W1[1, 1], W1[0, 1] (0.0)
    mask, _ = hand_condition("grasp", 3)
    np.testing.assert_array_equal(mask["net"]["dense_0"]["kernel"], [[False, True], [False, True]])
    np.testing.assert_array_equal(mask["net"]["dense_1"]["kernel"], [[False], [True]])


@pytest.fixture
def setup():
    rng = np.random.default_rng(5)
    init, best, prev_start = tree(rng), tree(rng), tree(rng)
    prev = jax.tree_util.tree_map(np.asarray, global_magnitude_mask(best, ones(best), PRUNABLE, 30))
    return init, best, prev, prev_start


def inputs(setup, keep=20, **kw):
    init, best, prev, prev_start = setup
    return Inputs(
        key=jax.random.PRNGKey(3),
        scores=jax.tree_util.tree_map(np.abs, best),
        prev_mask=prev,
        init=init,
        fresh=init,
        prunable=PRUNABLE,
        keep=keep,
        prev_start=prev_start,
        **kw,
    )


def kernels(t):
    return [np.asarray(t["actor"][n]["kernel"]) for n in ("dense_0", "dense_1")]


def test_random_ratios_keeps_the_imp_layer_counts_at_random_positions_with_their_own_init(setup):
    init, best, prev, _ = setup
    mask, start = next_level("random_ratios", inputs(setup))
    imp = global_magnitude_mask(best, prev, PRUNABLE, 20)
    assert [m.sum() for m in kernels(mask)] == [m.sum() for m in kernels(imp)]
    assert any(np.any(a != b) for a, b in zip(kernels(mask), kernels(imp)))
    for m, s, w in zip(kernels(mask), kernels(start), kernels(init)):
        np.testing.assert_array_equal(s, np.where(m, w, 0.0))  # the init's own values, not moved ones
    np.testing.assert_array_equal(np.asarray(mask["critic"]["dense_0"]["kernel"]), True)


def test_the_permuted_conditions_permute_init_or_the_chains_previous_values(setup):
    init, best, prev, prev_start = setup
    imp = kernels(global_magnitude_mask(best, prev, PRUNABLE, 20))
    for values, source in (("init", init), ("previous", prev_start)):
        mask, start = next_level("mask_permuted", inputs(setup, permute_values=values))
        for m, s, v, ref in zip(kernels(mask), kernels(start), kernels(source), imp):
            np.testing.assert_array_equal(m, ref)
            np.testing.assert_array_equal(np.sort(s[m]), np.sort(v[m]))
        mask, start = next_level("permuted_permuted", inputs(setup, permute_values=values))
        for m, s, v, ref in zip(kernels(mask), kernels(start), kernels(source), imp):
            np.testing.assert_array_equal(np.sort(s[m]), np.sort(v[ref]))


def test_structures_kept_follows_the_prune_count_and_keeps_one():
    assert [structures_kept(n, 0.2, "ceil") for n in (4, 3, 2, 1, 0)] == [3, 2, 1, 1, 0]
    assert [structures_kept(n, 0.2, "round") for n in (4, 3, 2, 10)] == [3, 2, 2, 8]


def test_structured_inputs_removes_the_input_row_of_least_l1():
    w0 = np.array([[1.0, -1.0, 1.0], [0.1, 0.2, -0.3], [2.0, 0.0, 0.0], [-0.5, 0.5, 0.5]], np.float32)
    rng = np.random.default_rng(0)
    params = {
        "actor": {
            "dense_0": {"kernel": w0, "bias": np.zeros(3, np.float32)},
            "dense_1": {"kernel": rng.normal(size=(3, 2)).astype(np.float32), "bias": np.zeros(2, np.float32)},
        }
    }
    prunable = {"actor": {"dense_0": {"kernel": True, "bias": False}, "dense_1": {"kernel": True, "bias": False}}}
    mask = ones(params)
    rows = []
    for _ in range(4):  # L1 of rows: 3, 0.6, 2, 1.5 -> row 1 goes, then 3, then 2; row 0 stays
        scores = jax.tree_util.tree_map(np.abs, params)
        mask, start = next_level(
            "structured_inputs",
            Inputs(
                key=jax.random.PRNGKey(0),
                scores=scores,
                prev_mask=mask,
                init=params,
                fresh=params,
                prunable=prunable,
                keep=0,
            ),
        )
        m0 = np.asarray(mask["actor"]["dense_0"]["kernel"])
        assert np.all(m0.all(axis=1) | ~m0.any(axis=1))  # whole rows
        rows.append(np.flatnonzero(m0.all(axis=1)).tolist())
        np.testing.assert_array_equal(np.asarray(mask["actor"]["dense_1"]["kernel"]), True)
        np.testing.assert_array_equal(np.asarray(start["actor"]["dense_0"]["kernel"]), np.where(m0, w0, 0.0))
    assert rows == [[0, 2, 3], [0, 2], [0], [0]]


def test_structured_units_removes_a_hidden_unit_in_and_out():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(4, 5)).astype(np.float32)
    w0[:, 3] *= 0.01  # unit 3 of the first hidden layer has the smallest incoming L1
    w1 = rng.normal(size=(5, 5)).astype(np.float32)
    w1[:, 1] *= 0.01  # unit 1 of the second
    params = {
        "actor": {
            f"dense_{i}": {"kernel": w, "bias": np.zeros(w.shape[1], np.float32)}
            for i, w in enumerate((w0, w1, rng.normal(size=(5, 2)).astype(np.float32)))
        }
    }
    prunable = {"actor": {n: {"kernel": True, "bias": False} for n in params["actor"]}}
    mask, _ = next_level(
        "structured_units",
        Inputs(
            key=jax.random.PRNGKey(0),
            scores=jax.tree_util.tree_map(np.abs, params),
            prev_mask=ones(params),
            init=params,
            fresh=params,
            prunable=prunable,
            keep=0,
        ),
    )
    m = [np.asarray(mask["actor"][f"dense_{i}"]["kernel"]) for i in range(3)]
    want = [np.ones((4, 5), bool), np.ones((5, 5), bool), np.ones((5, 2), bool)]
    want[0][:, 3] = False  # ceil(0.2 * 5) = 1 unit of each hidden layer: unit 3 ...
    want[1][3, :] = False  # ... and its outgoing row
    want[1][:, 1] = False  # unit 1 of the second hidden layer
    want[2][1, :] = False  # output units are never removed
    for got, w in zip(m, want):
        np.testing.assert_array_equal(got, w)


BASELINES = ("mask_weights", "one_shot", "snip", "grasp", "random_ratios", "structured_inputs", "structured_units")


@pytest.mark.slow  # about 18 s: every baseline's chain; CI runs it in its second step
def test_every_baseline_runs_as_its_own_chain_on_the_same_store(tmp_path):
    base = tiny_config(tmp_path / "runs", seeds=1, levels=3)
    cfg = dataclasses.replace(base, imp=dataclasses.replace(base.imp, conditions=BASELINES))
    run = ticketlab.run(cfg)

    def load(level, condition, kind):
        return files.load_tree(paths.tree_file(run, level, 0, condition, kind))

    prunable = {
        "actor": {n: {"kernel": True, "bias": False} for n in ("dense_0", "dense_1", "dense_2")},
        "critic": {n: {"kernel": False, "bias": False} for n in ("dense_0", "dense_1", "dense_2")},
    }
    dense_best, init = load(0, "dense", "best"), load(0, "dense", "start")
    total = prunable_total(init, prunable)
    for level in (1, 2):
        keep = count_after_levels(total, 0.2, level)
        want = global_magnitude_mask(dense_best, ones(dense_best), prunable, keep)  # one step from dense
        for a, b in zip(jax.tree_util.tree_leaves(load(level, "one_shot", "mask")), jax.tree_util.tree_leaves(want)):
            np.testing.assert_array_equal(a, b)
        for condition in ("snip", "grasp", "one_shot", "random_ratios"):
            mask, start = load(level, condition, "mask"), load(level, condition, "start")
            assert sum(int(np.sum(mask["actor"][n]["kernel"])) for n in mask["actor"]) == keep
            for m, s, w in zip(
                jax.tree_util.tree_leaves(mask), jax.tree_util.tree_leaves(start), jax.tree_util.tree_leaves(init)
            ):
                np.testing.assert_array_equal(s, np.where(m, w, 0.0))
    for condition in ("snip", "grasp"):  # the same scores at every level: the masks nest
        m1, m2 = load(1, condition, "mask"), load(2, condition, "mask")
        for a, b in zip(jax.tree_util.tree_leaves(m1), jax.tree_util.tree_leaves(m2)):
            assert np.all(a | ~b)
    snip, grasp = load(2, "snip", "mask"), load(2, "grasp", "mask")
    assert any(np.any(a != b) for a, b in zip(jax.tree_util.tree_leaves(snip), jax.tree_util.tree_leaves(grasp)))
    # structured inputs: Cart-Pole's 4 inputs -> 3 -> 2 whole rows of actor/dense_0; nothing else pruned
    for level, rows in ((1, 3), (2, 2)):
        mask = load(level, "structured_inputs", "mask")
        m0 = np.asarray(mask["actor"]["dense_0"]["kernel"])
        assert m0.all(axis=1).sum() == rows and (m0.all(axis=1) | ~m0.any(axis=1)).all()
        assert all(np.all(mask["actor"][n]["kernel"]) for n in ("dense_1", "dense_2"))
        units = load(level, "structured_units", "mask")["actor"]
        units_kept = 64  # the preset's count rule: ceil 64 -> 51 -> 40, round (PyTorch's) 64 -> 51 -> 41
        for _ in range(level):
            units_kept = structures_kept(units_kept, 0.2, cfg.imp.prune_count)
        assert np.asarray(units["dense_0"]["kernel"]).all(axis=0).sum() == units_kept
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *BASELINES}
    structured = [r["density"] for r in rows if r["condition"] == "structured_inputs"]
    assert len(structured) == 2 and all(d > 0.9 for d in structured)  # only first-layer rows go
    assert run / "figures" / "ticket.png" in plot_run(run)


def test_permute_values_previous_permutes_the_chains_own_previous_start(tmp_path):
    base = tiny_config(tmp_path / "runs", seeds=1, levels=3)
    cfg = dataclasses.replace(
        base, imp=dataclasses.replace(base.imp, conditions=("mask_permuted",), permute_values="previous")
    )
    run = ticketlab.run(cfg)

    def load(level, condition, kind):
        return files.load_tree(paths.tree_file(run, level, 0, condition, kind))

    init, start1, start2, mask2 = (
        load(0, "dense", "start"),
        load(1, "mask_permuted", "start"),
        load(2, "mask_permuted", "start"),
        load(2, "mask_permuted", "mask"),
    )
    for name in ("dense_0", "dense_1", "dense_2"):
        m, s2 = mask2["actor"][name]["kernel"], start2["actor"][name]["kernel"]
        np.testing.assert_array_equal(np.sort(s2[m]), np.sort(start1["actor"][name]["kernel"][m]))
        assert np.any(np.sort(s2[m]) != np.sort(init["actor"][name]["kernel"][m]))  # not the init's values


def test_the_structured_conditions_walk_conv_then_dense_layers_in_number_order():
    from ticketlab.pruning.conditions import _module_layers

    leaf = {"kernel": np.zeros((1, 1))}
    tree = {
        "log_std": np.zeros(1),  # a module that is one array, before the networks: skipped, not the end
        "actor": {n: leaf for n in ("dense_10", "dense_2", "conv_1", "conv_0", "dense_0")},
        "critic": {"dense_0": leaf},
    }
    prunable = {
        "actor": {n: {"kernel": True, "bias": False} for n in tree["actor"]},
        "critic": {"dense_0": {"kernel": False, "bias": False}},  # not pruned: not walked
        "log_std": False,
    }
    assert _module_layers(tree, prunable) == {"actor": ["conv_0", "conv_1", "dense_0", "dense_2", "dense_10"]}
