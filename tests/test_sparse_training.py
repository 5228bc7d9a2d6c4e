"""The sparse-training methods (GMP, SET, RigL, static) against hand computations: the schedule's
formula, the weights a drop-and-grow step drops and grows, zeroed moments of grown weights, live
counts that never move, and the methods as conditions of a real run at the level's density."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ticketlab.cli.main import main
from ticketlab.pruning.sparse_training import (
    SparseSchedule,
    apply_update,
    drop_and_grow,
    gmp_counts,
    layer_counts,
    sparse,
    sparse_update,
)

W = jnp.array([[0.9, -0.1, 0.5, 0.0], [0.3, 0.0, -0.7, 0.2]])
MASK = jnp.array([[True, True, True, False], [True, False, True, False]])
GROW = jnp.array([[0.0, 0.8, 0.1, 0.5], [0.2, 0.9, 0.0, 0.3]])


def one_layer(x):
    return {"net": {"dense_0": {"kernel": x}}}


PRUNABLE = {"net": {"dense_0": {"kernel": True}}}


def test_the_gmp_schedule_is_the_polynomial_formula():
    s = SparseSchedule.of(steps=100, start=0.2, end=0.8, every=0.1, drop_fraction=0.3, drop_schedule="cosine")
    assert (s.start, s.end, s.period) == (20, 80, 10)
    for t in range(100):
        progress = min(max((t + 1 - 20) / 60, 0.0), 1.0)
        assert float(s.pruned_share(jnp.int32(t))) == pytest.approx(1 - (1 - progress) ** 3, abs=1e-6)
    updates = [t for t in range(100) if bool(s.updates_after(jnp.int32(t)))]
    assert updates == [19, 29, 39, 49, 59, 69, 79]
    sizes, targets = jnp.array([256, 4096, 128]), jnp.array([200, 300, 50])
    share = jnp.float32(0.5)
    assert gmp_counts(sizes, targets, share).tolist() == [228, 2198, 89]  # 256 - round(56 / 2), ...


def test_the_cosine_drop_fraction():
    s = SparseSchedule.of(steps=100, start=0.0, end=0.8, every=0.1, drop_fraction=0.3, drop_schedule="cosine")
    for t in (9, 39, 79):
        assert float(s.drop_fraction_at(jnp.int32(t))) == pytest.approx(
            0.15 * (1 + np.cos(np.pi * (t + 1) / 80)), abs=1e-6
        )
    constant = dataclasses.replace(s, drop_schedule="constant")
    assert float(constant.drop_fraction_at(jnp.int32(39))) == pytest.approx(0.3)


def test_drop_and_grow_matches_a_hand_computation():
    new = drop_and_grow(one_layer(W), one_layer(MASK), PRUNABLE, one_layer(GROW), jnp.float32(0.4))
    # 5 live; floor(5 * 0.4) = 2 dropped: |-0.1| at (0, 1) and |0.3| at (1, 0); kept (0,0), (0,2), (1,2);
    # 2 grown where GROW is largest among the rest: 0.9 at (1, 1), 0.8 at (0, 1) (just dropped: back)
    expected = jnp.array([[True, True, True, False], [False, True, True, False]])
    assert (new["net"]["dense_0"]["kernel"] == expected).all()
    assert int(layer_counts(new, PRUNABLE)[0]) == 5


def test_a_mask_change_zeroes_dropped_weights_and_grown_moments():
    tx = optax.adam(1e-2)
    params = one_layer(W * MASK)
    state = tx.init(params)
    state = jax.tree_util.tree_map(lambda x: x + 1.0 if x.ndim else x, state)  # nonzero moments everywhere
    new = one_layer(jnp.array([[True, True, True, False], [False, True, True, False]]))
    params, state = apply_update(params, state, one_layer(MASK), new)
    k = params["net"]["dense_0"]["kernel"]
    assert float(k[1, 0]) == 0.0  # dropped
    assert float(k[1, 1]) == 0.0 and float(k[0, 1]) == pytest.approx(-0.1)  # grown at zero; regrown keeps its value
    mu, nu = state[0].mu["net"]["dense_0"]["kernel"], state[0].nu["net"]["dense_0"]["kernel"]
    assert float(mu[1, 1]) == 0.0 and float(nu[1, 1]) == 0.0  # the grown weight's moments
    assert float(mu[0, 1]) == 1.0 and float(mu[1, 0]) == 1.0  # the others' are kept


@pytest.mark.parametrize("method", ["rigl", "set", "static", "gmp"])
def test_a_training_function_of_your_own_runs_a_method_through_the_wrapper(method):
    """A sparse linear regression: y = x @ W_true, W_true nonzero on 12 of 64 entries; each method
    keeps 12 live weights (gmp: reaches 12 at its end). RigL, which grows where the loss's gradient
    is largest, finds the true support; live counts never move off the schedule."""
    rng = np.random.default_rng(0)
    true_mask = np.zeros((16, 4), bool)
    true_mask[rng.choice(16, 3, replace=False)] = True
    w_true = jnp.asarray(np.where(true_mask, rng.normal(size=(16, 4)) * 2, 0.0), jnp.float32)
    x = jax.random.normal(jax.random.PRNGKey(1), (256, 16))
    y = x @ w_true
    target = jnp.array([12], jnp.int32)
    steps = 400
    schedule = SparseSchedule.of(steps, 0.2 if method == "gmp" else 0.0, 0.8, 0.05, 0.5, "cosine")
    tx = sparse(optax.adam(0.05), method, schedule, PRUNABLE, target)
    start = jnp.zeros(64, bool).at[jax.random.choice(jax.random.PRNGKey(2), 64, (12,), replace=False)].set(True)
    start = start.reshape(16, 4)
    start_mask = one_layer(jnp.ones((16, 4), bool) if method == "gmp" else start)
    params = one_layer(jax.random.normal(jax.random.PRNGKey(3), (16, 4)) * 0.1 * start_mask["net"]["dense_0"]["kernel"])
    state = tx.init(params, mask=start_mask, key=jax.random.PRNGKey(4))

    def loss(p):
        return jnp.mean((x @ p["net"]["dense_0"]["kernel"] - y) ** 2)

    @jax.jit
    def step(params, state):
        grads = jax.grad(loss)(params)  # dense: the forward pass uses the (sparse) params as they are
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    live = []
    for t in range(steps):
        before = state.mask
        params, state = step(params, state)
        live.append(int(state.mask["net"]["dense_0"]["kernel"].sum()))
        k = params["net"]["dense_0"]["kernel"]
        assert not bool(jnp.any((k != 0) & ~state.mask["net"]["dense_0"]["kernel"]))  # pruned weights stay zero
        grown = state.mask["net"]["dense_0"]["kernel"] & ~before["net"]["dense_0"]["kernel"]
        if bool(grown.any()):  # a grown weight starts at zero, its Adam moments too
            assert not bool(jnp.any(jnp.where(grown, k, 0.0)))
            assert not bool(jnp.any(jnp.where(grown, state.inner[0].mu["net"]["dense_0"]["kernel"], 0.0)))
    if method == "gmp":
        assert live[0] == 64 and live[-1] == 12 and all(a >= b for a, b in zip(live, live[1:]))
    else:
        assert set(live) == {12}
    final = np.asarray(state.mask["net"]["dense_0"]["kernel"])
    if method == "rigl":
        assert (final == true_mask).all(), (final.astype(int), true_mask.astype(int))
        assert float(loss(params)) < 1e-3
    if method == "static":
        assert (final == np.asarray(start)).all()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--sparse.drop-fraction", "1.5"], "sparse.drop-fraction: must be in the open interval (0, 1), got 1.5"),
        (["--sparse.start", "0.9"], "sparse.start/end: need 0 <= start < end <= 1, got start 0.9, end 0.8"),
        (["--sparse.allocation", "dense"], "sparse.allocation: unknown 'dense'; allowed: global, uniform, erk"),
        (["--sparse.drop-schedule", "linear"], "sparse.drop-schedule: unknown 'linear'; allowed: cosine, constant"),
        (["--sparse.update-every", "0"], "sparse.update-every: must be in (0, 1], got 0.0"),
    ],
)
def test_bad_sparse_settings_exit_2_in_one_line(flags, message, tmp_path, capsys):
    argv = ["run", "cartpole-ppo", "--imp.conditions", "mask_weights", "rigl", *flags, "--out", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"ticketlab: error: {message}"
    assert not any(tmp_path.iterdir())


def test_the_methods_refuse_a_training_that_is_not_in_stages(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "cartpole-ppo",
                "--env.name",
                "gymnasium:CartPole-v1",
                "--imp.conditions",
                "gmp",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("ticketlab: error: imp.conditions: gmp change the mask between the steps of a training")
    assert "\n" not in err and not any(tmp_path.iterdir())


def test_sparse_update_of_gmp_under_the_global_allocation_ranks_all_layers():
    params = {"net": {"dense_0": {"kernel": jnp.array([[3.0, 0.1]])}, "dense_1": {"kernel": jnp.array([[0.2, 5.0]])}}}
    prunable = {"net": {"dense_0": {"kernel": True}, "dense_1": {"kernel": True}}}
    ones = jax.tree_util.tree_map(lambda x: jnp.ones(x.shape, bool), params)
    schedule = SparseSchedule(steps=10, start=0, end=1, period=1)
    out_params, _, mask = sparse_update(
        "gmp",
        schedule,
        jnp.int32(0),
        params,
        (),
        ones,
        prunable,
        jnp.array([1, 1]),
        jax.random.PRNGKey(0),
        None,
        jnp.int32(2),
    )
    assert mask["net"]["dense_0"]["kernel"].tolist() == [[True, False]]
    assert mask["net"]["dense_1"]["kernel"].tolist() == [[False, True]]
    assert float(out_params["net"]["dense_0"]["kernel"][0, 1]) == 0.0


def test_the_methods_run_as_conditions_at_the_levels_density(tmp_path):
    from conftest import tiny_config

    from ticketlab.experiments.experiment import run as run_experiment
    from ticketlab.pruning.allocation import erk_counts
    from ticketlab.pruning.magnitude import count_after_levels
    from ticketlab.store import files, paths

    cfg = tiny_config(tmp_path / "runs", seeds=1, levels=2)
    cfg = dataclasses.replace(
        cfg,
        imp=dataclasses.replace(cfg.imp, conditions=("rigl",), prune_fraction=0.7),
        sparse=dataclasses.replace(cfg.sparse, update_every=0.1),
    )
    run = run_experiment(cfg)
    shapes = [(4, 64), (64, 64), (64, 2)]
    keep = count_after_levels(sum(a * b for a, b in shapes), 0.7, 1, "ceil")
    for condition in ("rigl",):  # (gmp's stages: test_segments.py; its mask updates: above)
        mask = files.load_tree(paths.tree_file(run, 1, 0, condition, "mask"))["actor"]
        kept = [int(np.asarray(mask[f"dense_{i}"]["kernel"]).sum()) for i in range(3)]
        assert kept == erk_counts(shapes, keep).tolist(), condition
        best = files.load_tree(paths.tree_file(run, 1, 0, condition, "best"))["actor"]
        for i in range(3):
            assert not np.any(np.asarray(best[f"dense_{i}"]["kernel"])[~np.asarray(mask[f"dense_{i}"]["kernel"])])
        start = files.load_tree(paths.tree_file(run, 1, 0, condition, "start"))["actor"]
        dense_start = all(np.all(np.asarray(start[f"dense_{i}"]["kernel"]) != 0) for i in range(3))
        assert not dense_start  # rigl starts from its sparse mask (gmp, dense: test_conditions.py)
