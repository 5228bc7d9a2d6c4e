"""Each addition the house promises is one or two entries in a user's own module, no file of ticketlab
touched (tests/user_extensions/): a new environment family on a new backend, a pruning score that reads
a batch's activations, an IMP condition with a new source. (A new agent, SAC, is agents/sac.py.)"""

import dataclasses
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

import ticketlab
from ticketlab.core.errors import ConfigError
from ticketlab.networks.network import make_network
from ticketlab.pruning.scores import ScoreBatch
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

sys.path.insert(0, str(Path(__file__).parent / "user_extensions"))
import activation_score  # noqa: E402
import python_backend  # noqa: E402
import ticket_source  # noqa: E402


@pytest.fixture(autouse=True)
def extensions():
    """The three modules' entries, registered for each test and removed after it (other tests'
    messages list the registries' names)."""
    undo = [entry for module in (python_backend, activation_score, ticket_source) for entry in module.register()]
    yield
    for registry, name in undo:
        registry.unregister(name)


def _tiny(out, **fields):
    return dataclasses.replace(tiny_config(out), **fields)


def test_a_family_on_a_new_backend_trains_ppo(tmp_path):
    cfg = _tiny(
        tmp_path / "runs",
        seeds=2,
        levels=2,
        env=dataclasses.replace(tiny_config(tmp_path).env, name="py:Corridor"),
        ppo=dataclasses.replace(tiny_config(tmp_path).ppo, total_steps=4096),
    )
    spec = ticketlab.make_env("py:Corridor")
    assert spec.backend == "python" and spec.obs_names == ("position", "noise")
    run = ticketlab.run(cfg)
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *cfg.imp.conditions}
    assert max(r["best_return"] for r in rows if r["level"] == 0) > 0.5  # reaches the end of the corridor
    with pytest.raises(
        ConfigError,
        match=r"^algo: py:Corridor steps on the python backend, which algo dqn does not "
        r"support; allowed: ppo$",
    ):
        ticketlab.run(dataclasses.replace(preset_dqn(tmp_path), env=cfg.env))


def preset_dqn(tmp_path):
    return dataclasses.replace(ticketlab.preset("cartpole-dqn"), out=str(tmp_path / "dqn"))


def test_the_input_norms_are_those_of_each_layers_inputs():
    net = make_network(hidden=(5,), out=2, obs_shape=(3,))
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 3)))["params"]
    obs = jax.random.normal(jax.random.PRNGKey(1), (7, 3))
    batch = ScoreBatch(loss=None, observe=lambda: obs, forward={"actor": lambda p, x: net.apply({"params": p}, x)})
    norms = activation_score.input_norms(batch, {"actor": params}, None)["actor"]
    hidden = np.tanh(np.asarray(obs) @ params["dense_0"]["kernel"] + params["dense_0"]["bias"])
    np.testing.assert_allclose(norms["dense_0"], np.linalg.norm(np.asarray(obs), axis=0), rtol=1e-6)
    np.testing.assert_allclose(norms["dense_1"], np.linalg.norm(hidden, axis=0), rtol=1e-5)


@pytest.mark.slow  # an IMP run with a score of the user's (about 14 s), moved to keep the README's test command under 10 minutes
def test_a_score_that_reads_activations_prunes_by_them(tmp_path):
    base = _tiny(
        tmp_path / "runs",
        seeds=1,
        levels=2,
        imp=dataclasses.replace(tiny_config(tmp_path).imp, conditions=("mask_weights",)),
    )
    runs = [
        ticketlab.run(dataclasses.replace(base, imp=dataclasses.replace(base.imp, score=s)))
        for s in ("magnitude", "wanda")
    ]
    masks = [files.load_tree(paths.tree_file(r, 1, 0, "mask_weights", "mask")) for r in runs]
    kept = [sum(int(np.sum(m["actor"][k]["kernel"])) for k in m["actor"]) for m in masks]
    assert kept[0] == kept[1]  # the same count, other weights
    assert any(np.any(masks[0]["actor"][k]["kernel"] != masks[1]["actor"][k]["kernel"]) for k in masks[0]["actor"])


def test_a_condition_with_a_new_source_derives_from_the_tickets_chain(tmp_path):
    cfg = _tiny(
        tmp_path / "runs",
        seeds=1,
        levels=3,
        imp=dataclasses.replace(tiny_config(tmp_path).imp, conditions=("mask_weights", "ticket_reinit")),
    )
    run = ticketlab.run(cfg)
    for level in (1, 2):
        ticket, other = (files.load_tree(paths.tree_file(run, level, 0, c, "mask")) for c in cfg.imp.conditions)
        for a, b in zip(jax.tree_util.tree_leaves(ticket), jax.tree_util.tree_leaves(other)):
            np.testing.assert_array_equal(a, b)  # the ticket's mask: scored from the ticket's own chain
        starts = [files.load_tree(paths.tree_file(run, level, 0, c, "start")) for c in cfg.imp.conditions]
        assert np.any(starts[0]["actor"]["dense_1"]["kernel"] != starts[1]["actor"]["dense_1"]["kernel"])  # re-init
    with pytest.raises(ConfigError, match=r"^imp.conditions: ticket_reinit derives level 2 from mask_weights level 1"):
        ticketlab.run(dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, conditions=("ticket_reinit",))))
