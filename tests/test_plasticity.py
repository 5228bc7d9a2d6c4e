"""Plasticity metrics against a numpy computation on fixed activations: ReDo's dormant fractions,
Kumar et al.'s srank, kernel norms; and every run's metrics.json carries them."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.pruning.plasticity import dormant_fraction, hidden_activations, plasticity, srank


def numpy_dormant(h, tau):
    score = np.abs(h).mean(axis=0)
    score = score / (score.mean() + 1e-9)
    return float((score <= tau).mean())


def numpy_srank(phi, delta=0.01):
    sigma = np.sort(np.linalg.svd(phi, compute_uv=False))[::-1]
    cumulative = np.cumsum(sigma)
    for k in range(1, len(sigma) + 1):
        if cumulative[k - 1] >= (1 - delta) * cumulative[-1]:
            return k


def test_dormant_fraction_on_fixed_activations():
    h = np.array([[0.0, 1.0, 0.05, 2.0], [0.0, 3.0, 0.05, 2.0], [0.0, 2.0, 0.05, 2.0]], np.float32)
    # mean |h| per unit: 0, 2, 0.05, 2 -> layer mean 1.0125 -> scores 0, 1.975, 0.049, 1.975
    assert float(dormant_fraction(jnp.asarray(h), 0.0)) == 0.25
    assert float(dormant_fraction(jnp.asarray(h), 0.1)) == 0.5
    rng = np.random.default_rng(0)
    for _ in range(5):
        h = np.maximum(rng.normal(size=(64, 32)) - rng.uniform(0, 2, size=32), 0).astype(np.float32)
        for tau in (0.0, 0.1, 0.5):
            assert float(dormant_fraction(jnp.asarray(h), tau)) == pytest.approx(numpy_dormant(h, tau))


@pytest.mark.parametrize("rank", [1, 3, 8])
def test_srank_on_fixed_features(rank):
    rng = np.random.default_rng(rank)
    phi = (rng.normal(size=(100, rank)) @ rng.normal(size=(rank, 16))).astype(np.float32)
    phi += 1e-4 * rng.normal(size=phi.shape).astype(np.float32)
    assert int(srank(jnp.asarray(phi))) == numpy_srank(phi) == rank
    full = rng.normal(size=(200, 16)).astype(np.float32)
    assert int(srank(jnp.asarray(full))) == numpy_srank(full)


def test_plasticity_of_an_mlp_module():
    rng = np.random.default_rng(1)
    module = {
        "dense_0": {"kernel": rng.normal(size=(4, 8)).astype(np.float32), "bias": np.zeros(8, np.float32)},
        "dense_1": {"kernel": rng.normal(size=(8, 2)).astype(np.float32), "bias": np.zeros(2, np.float32)},
    }
    module["dense_0"]["kernel"][:, :3] = 0.0  # three units that never fire after a ReLU with zero bias
    x = rng.normal(size=(50, 4)).astype(np.float32)
    relu = lambda z: jnp.maximum(z, 0.0)
    out = plasticity({"actor": module}, {"actor": jnp.asarray(x)}, relu)["actor"]
    h = np.maximum(x @ module["dense_0"]["kernel"], 0)
    assert (
        float(out["dormant_0"]["dense_0"]) == pytest.approx(numpy_dormant(h, 0.0))
        and float(out["dormant_0"]["dense_0"]) >= 3 / 8
    )
    assert int(out["srank"]) == numpy_srank(h)
    assert float(out["norm"]["dense_1"]) == pytest.approx(np.linalg.norm(module["dense_1"]["kernel"]), rel=1e-6)
    assert [a.shape for a in hidden_activations(module, jnp.asarray(x), relu)] == [(50, 8)]


def test_every_run_stores_its_plasticity_and_the_tables_show_it(tmp_path, capsys):
    from conftest import tiny_config

    import ticketlab
    from ticketlab.cli.main import main
    from ticketlab.experiments.experiment import run as run_experiment
    from ticketlab.store import paths

    run = run_experiment(tiny_config(tmp_path / "runs", seeds=2, levels=2))
    metrics = json.loads(paths.metrics_file(run, 1, 0, "mask_weights").read_text())
    for when in ("best", "final"):  # every run stores its plasticity
        for module in ("actor", "critic"):
            measured = metrics["plasticity"][when][module]
            assert set(measured) == {"dormant_0", "dormant_0.1", "srank", "norm"}
            assert set(measured["norm"]) == {"dense_0", "dense_1", "dense_2"}
            assert 1 <= measured["srank"] <= 64
            assert all(0.0 <= v <= 1.0 for v in measured["dormant_0.1"].values())
    ticketlab.report(run, table="srank")
    out = capsys.readouterr().out
    assert "srank of the last hidden layer, mean ± sd over seeds" in out and "ticket" in out
    assert main(["plot", str(run), "--table", "dormant"]) == 0
    assert "dormant units, tau 0.1 (%)" in capsys.readouterr().out
    assert main(["plot", str(run), "--table", "rank"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "ticketlab: error: table: unknown 'rank'; allowed: return, dormant, srank, norm"
    )
