"""Layer allocation (`--imp.allocation`): ERK's densities against Evci et al.'s formula, counts that
sum to the target, and IMP's masks keeping exactly each layer's count."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.cli.main import main
from ticketlab.pruning.allocation import erk_counts, erk_densities, imp_layer_counts, uniform_counts
from ticketlab.pruning.conditions import CONDITIONS, Inputs, next_level
from ticketlab.pruning.magnitude import count_after_levels

SHAPES = [(4, 64), (64, 64), (64, 2)]


def rigl_erk(shapes, density):
    """rigl's sparse_utils.get_sparsities_erdos_renyi, written out (without its flooring of each
    layer's zero count): eps = (sum over sparse layers of density * N_l, less the (1 - density) * N_l
    each dense layer takes beyond its share) / sum over sparse layers of raw_l * N_l; while the
    largest scaled share exceeds 1, the layers with the largest raw share become dense."""
    n = [math.prod(s) for s in shapes]
    raw = [sum(s) / math.prod(s) for s in shapes]
    dense = set()
    while True:
        sparse = [i for i in range(len(n)) if i not in dense]
        numerator = sum(density * n[i] for i in sparse) - sum((1 - density) * n[i] for i in dense)
        eps = numerator / sum(raw[i] * n[i] for i in sparse)
        worst = max(raw[i] for i in sparse)
        if worst * eps <= 1:
            return [1.0 if i in dense else raw[i] * eps for i in range(len(n))]
        dense |= {i for i in sparse if raw[i] == worst}


@pytest.mark.parametrize("density", [0.5, 0.2, 0.05, 0.014])
def test_erk_densities_follow_evci_et_al(density):
    ours = erk_densities(SHAPES, density)
    np.testing.assert_allclose(ours, rigl_erk(SHAPES, density), rtol=1e-12)
    sizes = np.array([math.prod(s) for s in SHAPES])
    assert np.isclose((ours * sizes).sum(), density * sizes.sum())  # the overall density is kept
    assert ours.max() <= 1.0


def test_erk_makes_the_small_input_layer_dense_first():
    d = erk_densities(SHAPES, 0.5)
    assert d[0] == 1.0 and d[1] < 1.0  # (4 + 64) / (4 * 64) is the largest raw share


@pytest.mark.parametrize("counts_fn", [erk_counts, uniform_counts])
@pytest.mark.parametrize("keep", [1, 37, 512, 4000, 4352])
def test_counts_sum_to_the_target(counts_fn, keep):
    counts = counts_fn(SHAPES, keep)
    assert counts.sum() == keep
    assert all(0 <= c <= math.prod(s) for c, s in zip(counts, SHAPES))


def test_imp_counts_per_allocation():
    assert imp_layer_counts("global", SHAPES, 5, 0.2, "ceil") is None
    uniform = imp_layer_counts("uniform", SHAPES, 5, 0.2, "ceil")
    assert uniform.tolist() == [count_after_levels(math.prod(s), 0.2, 5, "ceil") for s in SHAPES]
    erk = imp_layer_counts("erk", SHAPES, 5, 0.2, "ceil")
    assert erk.sum() == count_after_levels(sum(math.prod(s) for s in SHAPES), 0.2, 5, "ceil")
    previous = imp_layer_counts("erk", SHAPES, 4, 0.2, "ceil")
    assert (erk <= previous).all()  # nested masks: a layer's count never grows


def tiny_inputs(layer_keep):
    key = jax.random.PRNGKey(0)
    k1, k2, k3 = jax.random.split(key, 3)
    params = {
        "actor": {
            f"dense_{i}": {"kernel": jax.random.normal(k, s), "bias": jnp.zeros(s[1])}
            for i, (k, s) in enumerate(zip((k1, k2, k3), SHAPES))
        }
    }
    prunable = {"actor": {f"dense_{i}": {"kernel": True, "bias": False} for i in range(3)}}
    ones = jax.tree_util.tree_map(lambda x: jnp.ones(x.shape, bool), params)
    keep = jnp.int32(int(sum(layer_keep)))
    return Inputs(
        key=key,
        scores=jax.tree_util.tree_map(jnp.abs, params),
        prev_mask=ones,
        init=params,
        fresh=params,
        prunable=prunable,
        keep=keep,
        layer_keep=jnp.asarray(layer_keep, jnp.int32),
    ), params


@pytest.mark.parametrize("condition", ["mask_weights", "random_reinit", "mask_permuted", "one_shot"])
def test_conditions_keep_each_layers_count(condition):
    counts = erk_counts(SHAPES, 600)
    x, params = tiny_inputs(counts)
    mask, start = next_level(condition, x)
    kept = [int(mask["actor"][f"dense_{i}"]["kernel"].sum()) for i in range(3)]
    assert kept == counts.tolist()
    if condition == "mask_weights":  # the largest |w| of each layer
        for i in range(3):
            w = np.abs(np.asarray(params["actor"][f"dense_{i}"]["kernel"])).ravel()
            threshold = np.sort(w)[-counts[i]]
            assert (np.asarray(mask["actor"][f"dense_{i}"]["kernel"]).ravel() == (w >= threshold)).all()


def test_an_unknown_allocation_is_one_line(tmp_path, capsys):
    assert main(["run", "cartpole-ppo", "--imp.allocation", "random", "--out", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "ticketlab: error: imp.allocation: unknown 'random'; allowed: global, uniform, erk"
    )
    assert not any(tmp_path.iterdir())
    assert "one_shot" in CONDITIONS


def test_a_run_with_uniform_allocation_prunes_every_layer_by_its_own_fraction(tmp_path):
    import dataclasses

    from conftest import tiny_config

    from ticketlab.experiments.experiment import run as run_experiment
    from ticketlab.store import files, paths

    cfg = tiny_config(tmp_path / "runs", seeds=1, levels=3)
    cfg = dataclasses.replace(
        cfg, imp=dataclasses.replace(cfg.imp, conditions=("mask_weights", "random_reinit"), allocation="uniform")
    )
    run = run_experiment(cfg)
    for condition in ("mask_weights", "random_reinit"):
        mask = files.load_tree(paths.tree_file(run, 2, 0, condition, "mask"))["actor"]
        for name, layer in mask.items():
            n = np.asarray(layer["kernel"]).size
            assert int(np.asarray(layer["kernel"]).sum()) == count_after_levels(n, 0.2, 2, cfg.imp.prune_count), (
                condition,
                name,
            )
