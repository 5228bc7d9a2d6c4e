"""Image-input analysis: per-pixel and per-channel first-layer summaries equal direct sums over the
kernel, and an image-input run gets its heatmaps."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.agents.dqn import q_network
from ticketlab.envs.registry import make_env
from ticketlab.presets import preset
from ticketlab.pruning.magnitude import random_global_mask
from ticketlab.pruning.masks import prunable_tree
from ticketlab.pruning.summaries import level_summary
from ticketlab.reporting.analysis.images import channel_density, channel_magnitude, pixel_maps

IMAGE_FIGURES = (
    "channel_density",
    "layer_density",
    "mask_overlap",
    "pixel_kept",
    "pixel_magnitude",
    "plasticity",
    "ticket",
)
"""What `ticketlab plot` draws for an image observation with a dense first layer, sorted."""


def _params_and_mask():
    cfg = preset("mazegrid-dqn")
    spec = make_env(cfg.env.name, cfg.env.encoding)
    net = q_network(cfg, spec)
    params = {"q": net.init(jax.random.PRNGKey(0), jnp.zeros((1,) + spec.obs_shape))["params"]}
    prunable = prunable_tree(params, cfg.imp.scope)
    mask = random_global_mask(jax.random.PRNGKey(1), params, prunable, 60_000)
    return cfg, spec, net, params, mask, prunable


def test_pixel_values_equal_a_direct_sum_over_the_first_layer_kernel():
    cfg, spec, net, params, mask, prunable = _params_and_mask()
    row = level_summary(params, mask, prunable)
    maps = pixel_maps(row, spec.obs_shape, spec.image_layout)
    kernel = np.asarray(params["q"]["dense_0"]["kernel"])
    keep = np.asarray(mask["q"]["dense_0"]["kernel"])
    rng = np.random.default_rng(0)
    for c, h, w in [
        (0, 0, 0),
        (1, 5, 9),
        (5, 9, 19),
        *zip(rng.integers(0, 6, 20), rng.integers(0, 10, 20), rng.integers(0, 20, 20)),
    ]:
        # which kernel row does pixel (c, h, w) drive? ask the network's own flattening
        image = np.zeros(spec.obs_shape, np.float32)
        image[c, h, w] = 1.0
        hidden = _first_layer_output(net, params, keep, kernel, image)
        assert maps["magnitude"][c, h, w] == pytest.approx(np.abs(hidden).sum(), rel=1e-5)
        assert maps["kept"][c, h, w] == keep[c * 200 + h * 20 + w].sum()
        np.testing.assert_array_equal(hidden != 0, keep[c * 200 + h * 20 + w] & (kernel[c * 200 + h * 20 + w] != 0))
    density = channel_density(row, spec.obs_shape, spec.image_layout)
    direct = keep.reshape(6, 200, -1).mean(axis=(1, 2))
    np.testing.assert_allclose(density, direct, rtol=1e-6)
    magnitude = channel_magnitude(row, spec.obs_shape, spec.image_layout)
    direct = np.abs(np.where(keep, kernel, 0.0)).reshape(6, 200, -1).sum(axis=(1, 2))
    np.testing.assert_allclose(magnitude, direct, rtol=1e-4)


def _first_layer_output(net, params, keep, kernel, image):
    """The network's own first-layer pre-activation for `image`, with the masked kernel and zero
    bias: for a one-hot image, the kernel row that pixel drives."""
    layers = dict(params["q"])
    layers["dense_0"] = {"kernel": jnp.asarray(np.where(keep, kernel, 0.0)), "bias": jnp.zeros(kernel.shape[1])}
    _, state = net.apply(
        {"params": layers}, jnp.asarray(image)[None], capture_intermediates=True, mutable=["intermediates"]
    )
    return np.asarray(state["intermediates"]["dense_0"]["__call__"][0])[0]


def _tiny_dqn(out, **env):
    base = preset("mazegrid-dqn")
    return dataclasses.replace(
        base,
        seeds=1,
        levels=2,
        out=str(out),
        env=dataclasses.replace(base.env, **env),
        network=dataclasses.replace(base.network, q_hidden=(32,)),
        dqn=dataclasses.replace(
            base.dqn,
            total_steps=2_048,
            learning_starts=512,
            buffer_size=4_096,
            eps_anneal_steps=1_000,
            eval_every=16,
            eval_episodes=1,
        ),
    )


@pytest.mark.slow  # end to end; test_other_encodings_get_their_figures keeps per-channel pixel maps in the fast suite
def test_an_image_run_gets_pixel_heatmaps_and_play_replays_it(tmp_path, capsys):
    from ticketlab.cli.main import main
    from ticketlab.experiments.experiment import run as run_experiment
    from ticketlab.reporting.plots import plot_run
    from ticketlab.store import paths

    cfg = _tiny_dqn(tmp_path / "runs")
    run = run_experiment(cfg)
    names = sorted(p.stem for p in plot_run(run))
    assert names == list(IMAGE_FIGURES)
    # a level lost before its marker was written is recomputed bit for bit (DQN is deterministic)
    best = paths.tree_file(run, 1, 0, "mask_weights", "best")
    before = best.read_bytes()
    paths.seed_marker(run, 1, 0).unlink()
    best.unlink()
    run_experiment(cfg)
    assert best.read_bytes() == before
    gif = tmp_path / "agent.gif"
    assert (
        main(
            [
                "play",
                "--run",
                str(run),
                "--level",
                "1",
                "--condition",
                "mask_permuted",
                "--episodes",
                "2",
                "--render",
                str(gif),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "mean over 2 episodes" in out and "coins" in out and gif.stat().st_size > 0


@pytest.mark.slow  # two MazeGrid IMP runs (about 25 s), moved to keep the README's test command under 10 minutes
@pytest.mark.parametrize(
    "encoding,figures",
    [
        ("entangled", ["input_profile", "layer_density", "mask_overlap", "plasticity", "ticket"]),
        ("rgb", list(IMAGE_FIGURES)),
    ],
)
def test_other_encodings_get_their_figures(tmp_path, encoding, figures):
    from ticketlab.experiments.experiment import run as run_experiment
    from ticketlab.reporting.plots import plot_run

    run = run_experiment(_tiny_dqn(tmp_path / "runs", encoding=encoding))
    assert sorted(p.stem for p in plot_run(run)) == figures
