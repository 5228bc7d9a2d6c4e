"""Compact export: a pruned MLP as the smaller dense network it is, with the masked network's
outputs on the kept inputs."""

import dataclasses
import json

import jax
import numpy as np
import pytest
from conftest import tiny_config
from safetensors.numpy import load_file

from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.cli.main import main
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.pruning.compact import CompactModule, compact_forward, compact_module, masked_forward
from ticketlab.pruning.masks import apply_mask
from ticketlab.store import files, paths


def hand_module():
    """4 inputs -> 3 -> 3 -> 2. Input 2 has no connection; hidden-0 unit 1 receives nothing (a
    constant); hidden-1 unit 1 receives only from that constant unit (a constant too); hidden-1
    unit 2 feeds nothing."""
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3, 3), (3, 2)]
    params = {f"dense_{i}": {"kernel": rng.normal(size=s), "bias": rng.normal(size=s[1])} for i, s in enumerate(shapes)}
    m0 = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 1]], bool)
    m1 = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0]], bool)
    m2 = np.array([[1, 1], [0, 1], [0, 0]], bool)
    mask = {f"dense_{i}": {"kernel": m, "bias": np.ones(m.shape[1], bool)} for i, m in enumerate((m0, m1, m2))}
    return params, mask


def test_compact_module_matches_a_hand_computation():
    params, mask = hand_module()
    c = compact_module(params, mask, "tanh")
    assert c.inputs.tolist() == [0, 1, 3]  # input 2 has no connection
    assert [u.tolist() for u in c.units] == [[0, 2], [0]]  # hidden-0 unit 1 folded; hidden-1: 1 folded, 2 feeds nothing
    assert [layer["kernel"].shape for layer in c.layers] == [(3, 2), (2, 1), (1, 2)]
    # the folded constants, by hand: hidden-0 unit 1 is tanh(b0[1]) and feeds hidden-1 unit 1 only;
    # hidden-1 unit 1 is then tanh(b1[1] + tanh(b0[1]) * W1[1, 1]) and feeds output 0 (row 1 of m2: output 1)
    k0, b0 = params["dense_0"]["kernel"], params["dense_0"]["bias"]
    h1_const = np.tanh(params["dense_1"]["bias"][1] + np.tanh(b0[1]) * params["dense_1"]["kernel"][1, 1])
    expected_b2 = params["dense_2"]["bias"] + np.array([0.0, h1_const * params["dense_2"]["kernel"][1, 1]])
    np.testing.assert_allclose(c.layers[2]["bias"], expected_b2, rtol=1e-6)
    np.testing.assert_allclose(
        c.layers[0]["kernel"], np.where(mask["dense_0"]["kernel"], k0, 0)[np.ix_([0, 1, 3], [0, 2])], rtol=1e-6
    )
    x = np.random.default_rng(1).normal(size=(64, 4))
    np.testing.assert_allclose(
        compact_forward(c, x, "tanh"), masked_forward(params, mask, x, "tanh"), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_random_sparse_modules_keep_their_outputs(activation):
    rng = np.random.default_rng(2)
    shapes = [(12, 16), (16, 8), (8, 3)]
    for density in (0.5, 0.2, 0.08):
        params = {
            f"dense_{i}": {"kernel": rng.normal(size=s), "bias": rng.normal(size=s[1])} for i, s in enumerate(shapes)
        }
        mask = {
            f"dense_{i}": {"kernel": rng.random(s) < density, "bias": np.ones(s[1], bool)} for i, s in enumerate(shapes)
        }
        c = compact_module(params, mask, activation)
        x = rng.normal(size=(32, 12))
        np.testing.assert_allclose(
            compact_forward(c, x, activation), masked_forward(params, mask, x, activation), rtol=1e-5, atol=1e-5
        )
        assert sum(layer["kernel"].size for layer in c.layers) <= sum(np.prod(s) for s in shapes)


def test_a_conv_module_is_refused_in_one_line():
    with pytest.raises(Exception, match="module: export supports MLP modules"):
        compact_module({"conv_0": {}, "dense_0": {}}, {}, "relu")


@pytest.fixture(scope="module")
def ticket_run(tmp_path_factory):
    cfg = tiny_config(tmp_path_factory.mktemp("export") / "runs", seeds=1, levels=3)
    cfg = dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, conditions=("mask_weights",), prune_fraction=0.6))
    return run_experiment(cfg)


def test_export_writes_networks_whose_outputs_are_the_masked_agents(ticket_run, tmp_path, capsys):
    out = tmp_path / "ticket"
    assert main(["export", str(ticket_run), "--level", "2", "--seed", "0", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["actor.safetensors", "compact.json", "critic.safetensors"]
    description = json.loads((out / "compact.json").read_text())
    actor = description["modules"]["actor"]
    assert description["policy_module"] == "actor" and description["activation"] == "tanh"
    assert (
        actor["input_names"]
        == [["cart position", "cart velocity", "pole angle", "pole angular velocity"][i] for i in actor["inputs"]]
        or actor["input_names"]
    )
    cfg = files.load_json(paths.config_file(ticket_run))
    assert cfg["config"]["name"]
    # the exported actor, run on the kept inputs, gives the masked actor's logits
    from ticketlab.store.rundir import load_run_config

    config = load_run_config(ticket_run)
    acting = AGENTS.get(config.algo).acting(config, run_spec(config))
    best = files.load_tree(paths.tree_file(ticket_run, 2, 0, "mask_weights", "best"))
    mask = files.load_tree(paths.tree_file(ticket_run, 2, 0, "mask_weights", "mask"))
    stored = load_file(str(out / "actor.safetensors"))
    layers = [
        {"kernel": stored[f"dense_{i}/kernel"], "bias": stored[f"dense_{i}/bias"]} for i in range(len(actor["layers"]))
    ]
    compact = CompactModule(layers=layers, inputs=np.array(actor["inputs"]), units=[], extra={})
    obs = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (128, 4)))
    expected = acting.network.apply({"params": apply_mask(best, mask)["actor"]}, obs)
    np.testing.assert_allclose(compact_forward(compact, obs, "tanh"), np.asarray(expected), rtol=1e-5, atol=1e-5)
    assert actor["compact_weights"] <= sum(np.prod(np.asarray(best["actor"][n]["kernel"]).shape) for n in best["actor"])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--level", "9"], "level/seed/condition: "),
        (["--seed", "0"], "level: missing"),
        (["--level", "1", "--condition", "lucky"], "condition: unknown 'lucky'"),
    ],
)
def test_bad_export_input_exits_2_and_writes_nothing(ticket_run, tmp_path, capsys, extra, message):
    out = tmp_path / "ticket"
    assert main(["export", str(ticket_run), *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_export_never_writes_into_a_directory_that_holds_files(ticket_run, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["export", str(ticket_run), "--level", "1", "--out", str(tmp_path)]) == 2
    assert "is not an empty directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
