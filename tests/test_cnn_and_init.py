"""Conv torsos and init schemes: our initializers against PyTorch's own, conv/dense layer names and
shapes, CHW vs HWC inputs, first-layer summaries of conv and HWC dense inputs, and an end-to-end
IMP run with the MinAtar CNN."""

import dataclasses
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.envs.registry import make_env
from ticketlab.networks.init import INIT_SCHEMES, layer_initializers
from ticketlab.networks.network import make_network
from ticketlab.networks.torsos import conv_layers, image_hwc, smallest_image, torso_forward
from ticketlab.pruning.magnitude import random_global_mask
from ticketlab.pruning.masks import prunable_tree
from ticketlab.pruning.summaries import input_layer_summary, level_summary
from ticketlab.reporting.analysis.images import channel_density, channel_magnitude, pixel_maps, to_chw

CONV = dict(cin=16, cout=32, k=5)  # torch Conv2d(16, 32, 5)
LINEAR = dict(fin=300, fout=200)  # torch Linear(300, 200)


# -- 1. init schemes against PyTorch ----------------------------------------------------------


def _ours(scheme, kind, is_output=False, is_policy=False, seed=0):
    """(kernel, bias) from `layer_initializers`, kernels in flax's layout and (for comparison)
    transposed to torch's [out, in, kh, kw] / [out, in]."""
    if kind == "conv":
        shape = (CONV["k"], CONV["k"], CONV["cin"], CONV["cout"])
        fan_in, out = CONV["k"] * CONV["k"] * CONV["cin"], CONV["cout"]
    else:
        shape = (LINEAR["fin"], LINEAR["fout"])
        fan_in, out = LINEAR["fin"], LINEAR["fout"]
    kernel_init, bias_init = layer_initializers(scheme, fan_in, is_output, is_policy)
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    kernel = np.asarray(kernel_init(k1, shape, jnp.float32))
    bias = np.asarray(bias_init(k2, (out,), jnp.float32))
    torch_layout = np.transpose(kernel, (3, 2, 0, 1)) if kind == "conv" else kernel.T
    return torch_layout, bias


def _torch():
    """PyTorch, the reference of the init schemes (its local CPU build, part of the [test] extra)."""
    return pytest.importorskip("torch", reason="the init schemes are compared with PyTorch's: pip install -e '.[test]'")


def _torch_layer(kind):
    torch = _torch()
    torch.manual_seed(0)
    if kind == "conv":
        return torch.nn.Conv2d(CONV["cin"], CONV["cout"], CONV["k"])
    return torch.nn.Linear(LINEAR["fin"], LINEAR["fout"])


def _theirs(scheme, kind, gain=None):
    """(weight, bias) of a torch layer initialized the way `scheme` names."""
    torch = _torch()
    layer = _torch_layer(kind)  # torch-default: the layer's own reset_parameters
    with torch.no_grad():
        if scheme == "kaiming-normal":
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
        elif scheme == "xavier-uniform":
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
        elif scheme == "orthogonal":
            torch.nn.init.orthogonal_(layer.weight, gain=gain)
            torch.nn.init.zeros_(layer.bias)
    return layer.weight.detach().numpy().astype(np.float64), layer.bias.detach().numpy().astype(np.float64)


def _fans(kind):
    if kind == "conv":
        rf = CONV["k"] ** 2
        return CONV["cin"] * rf, CONV["cout"] * rf
    return LINEAR["fin"], LINEAR["fout"]


COMPARED = {"torch-default", "kaiming-normal", "xavier-uniform", "orthogonal"}
"""The schemes the tests below compare with PyTorch's initializers."""


def test_every_registered_scheme_is_compared_with_torch():
    assert set(INIT_SCHEMES.names()) == COMPARED  # a new scheme needs its comparison below


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_torch_default_matches_torch_reset_parameters(kind):
    ours, our_bias = _ours("torch-default", kind)
    theirs, their_bias = _theirs("torch-default", kind)
    assert ours.shape == theirs.shape
    fan_in, _ = _fans(kind)
    bound = 1.0 / math.sqrt(fan_in)
    for w in (ours, theirs):  # U(+-1/sqrt(fan_in)), the kernel of torch's kaiming_uniform(a=sqrt(5))
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * bound
        assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
        assert abs(w.mean()) < 0.05 * bound
    assert ours.std() == pytest.approx(theirs.std(), rel=0.04)
    # the bias too is U(+-1/sqrt(fan_in)) in torch; ours must not be zero or a different bound
    for b in (our_bias, their_bias):
        assert np.abs(b).max() <= bound * (1 + 1e-6)
        assert np.abs(b).max() > 0.75 * bound  # 32 or 200 draws: the largest is near the bound
    assert np.abs(our_bias).max() == pytest.approx(np.abs(their_bias).max(), rel=0.25)


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_kaiming_normal_matches_torch_kaiming_normal_relu(kind):
    ours, our_bias = _ours("kaiming-normal", kind)
    theirs, _ = _theirs("kaiming-normal", kind)
    fan_in, _ = _fans(kind)
    std = math.sqrt(2.0 / fan_in)
    for w in (ours, theirs):
        assert w.std() == pytest.approx(std, rel=0.03)
        assert abs(w.mean()) < 0.05 * std
        # a normal (not truncated, not uniform) distribution: kurtosis 3
        assert ((w - w.mean()) ** 4).mean() / w.var() ** 2 == pytest.approx(3.0, abs=0.25)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.04)
    np.testing.assert_array_equal(our_bias, 0.0)


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_xavier_uniform_matches_torch_xavier_uniform(kind):
    ours, our_bias = _ours("xavier-uniform", kind)
    theirs, _ = _theirs("xavier-uniform", kind)
    fan_in, fan_out = _fans(kind)  # torch: fan_out of a conv is out_channels x kh x kw
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    for w in (ours, theirs):
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * bound
        assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.04)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01)
    np.testing.assert_array_equal(our_bias, 0.0)


@pytest.mark.parametrize("kind", ["conv", "dense"])
@pytest.mark.parametrize(
    "is_output,is_policy,gain", [(False, False, math.sqrt(2.0)), (True, False, 1.0), (True, True, 0.01)]
)
def test_orthogonal_matches_torch_orthogonal(kind, is_output, is_policy, gain):
    ours, our_bias = _ours("orthogonal", kind, is_output, is_policy)
    theirs, _ = _theirs("orthogonal", kind, gain)
    # torch flattens the weight to [out, rest]; the rows (out < rest here) are orthonormal x gain
    for w in (ours, theirs):
        flat = w.reshape(w.shape[0], -1).astype(np.float64)
        np.testing.assert_allclose(flat @ flat.T, gain**2 * np.eye(flat.shape[0]), atol=2e-5 * max(gain**2, 1e-2))
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    np.testing.assert_array_equal(our_bias, 0.0)


def _init(net, obs_shape, seed=0):
    return jax.jit(net.init)(jax.random.PRNGKey(seed), jnp.zeros((1,) + tuple(obs_shape)))["params"]


def test_minatar_cnn_conv_0_has_torch_default_bounds_from_kernel_fan_in():
    net = make_network(hidden=(128, 64), out=3, obs_shape=(10, 10, 4), torso="minatar-cnn", image_layout="HWC")
    p = _init(net, (10, 10, 4))
    bound = 1.0 / math.sqrt(9 * 4)  # PyTorch: 1/sqrt(in_channels x kh x kw)
    for leaf in ("kernel", "bias"):
        w = np.asarray(p["conv_0"][leaf])
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() > (0.97 if leaf == "kernel" else 0.6) * bound
    # the dense layer after it: fan_in is the flattened conv output, 8 x 8 x 16
    w = np.asarray(p["dense_0"]["kernel"])
    assert 0.99 / 32 < np.abs(w).max() <= 1 / 32 * (1 + 1e-6)


def test_nature_cnn_every_layer_uses_pytorch_fan_in():
    net = make_network(hidden=(512,), out=6, obs_shape=(84, 84, 4), torso="nature-cnn", image_layout="HWC")
    p = _init(net, (84, 84, 4))
    for name, fan_in in (
        ("conv_0", 8 * 8 * 4),
        ("conv_1", 4 * 4 * 32),
        ("conv_2", 3 * 3 * 64),
        ("dense_0", 3136),
        ("dense_1", 512),
    ):
        w = np.asarray(p[name]["kernel"])
        assert math.prod(w.shape[:-1]) == fan_in
        bound = 1 / math.sqrt(fan_in)
        assert 0.99 * bound < np.abs(w).max() <= bound * (1 + 1e-6), name
        assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05), name


@pytest.mark.parametrize("scheme", ["torch-default", "kaiming-normal"])
def test_input_scale_scales_the_first_layer_conv_0_for_a_cnn_dense_0_for_an_mlp(scheme):
    shape = (10, 10, 4)
    for torso, first, rest in (("minatar-cnn", "conv_0", ("dense_0", "dense_1")), ("mlp", "dense_0", ("dense_1",))):
        kw = dict(hidden=(32,), out=3, obs_shape=shape, torso=torso, image_layout="HWC", scheme=scheme)
        a = _init(make_network(**kw), shape)
        b = _init(make_network(input_scale=0.1, **kw), shape)
        np.testing.assert_allclose(np.asarray(b[first]["kernel"]), 0.1 * np.asarray(a[first]["kernel"]), rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(b[first]["bias"]), np.asarray(a[first]["bias"]))
        for name in rest:
            np.testing.assert_array_equal(np.asarray(b[name]["kernel"]), np.asarray(a[name]["kernel"]))


# -- 2. layer names and shapes -------------------------------------------------------------------


def _shapes(tree):
    return {f"{layer}/{leaf}": tuple(v.shape) for layer, leaves in tree.items() for leaf, v in leaves.items()}


def test_minatar_cnn_layer_names_and_shapes():
    net = make_network(hidden=(128, 64), out=3, obs_shape=(10, 10, 4), torso="minatar-cnn", image_layout="HWC")
    p = jax.eval_shape(lambda: _init(net, (10, 10, 4)))
    assert _shapes(p) == {
        "conv_0/kernel": (3, 3, 4, 16),
        "conv_0/bias": (16,),
        "dense_0/kernel": (8 * 8 * 16, 128),
        "dense_0/bias": (128,),
        "dense_1/kernel": (128, 64),
        "dense_1/bias": (64,),
        "dense_2/kernel": (64, 3),
        "dense_2/bias": (3,),
    }


def test_nature_cnn_layer_names_and_shapes():
    net = make_network(hidden=(512,), out=6, obs_shape=(84, 84, 4), torso="nature-cnn", image_layout="HWC")
    p = jax.eval_shape(lambda: _init(net, (84, 84, 4)))
    assert _shapes(p) == {
        "conv_0/kernel": (8, 8, 4, 32),
        "conv_0/bias": (32,),
        "conv_1/kernel": (4, 4, 32, 64),
        "conv_1/bias": (64,),
        "conv_2/kernel": (3, 3, 64, 64),
        "conv_2/bias": (64,),
        "dense_0/kernel": (3136, 512),
        "dense_0/bias": (512,),
        "dense_1/kernel": (512, 6),
        "dense_1/bias": (6,),
    }


def test_a_cnn_torso_needs_an_image_layout():
    with pytest.raises(ValueError):
        make_network(hidden=(8,), out=2, obs_shape=(4,), torso="minatar-cnn")


@pytest.mark.parametrize(
    "torso,hwc",
    [("nature-cnn", (84, 84, 4)), ("nature-cnn", (44, 52, 2)), ("minatar-cnn", (10, 10, 7)), ("mlp", (10, 10, 7))],
)
def test_torso_arithmetic_matches_the_network(torso, hwc):
    # the features the conv layers flatten are what the network's first dense layer takes in
    net = make_network(hidden=(8,), out=2, obs_shape=hwc, torso=torso, image_layout="HWC")
    p = jax.eval_shape(lambda: _init(net, hwc))
    flops, features = torso_forward(torso, hwc)
    assert p["dense_0"]["kernel"].shape[0] == features
    assert image_hwc((hwc[2], hwc[0], hwc[1]), "CHW") == image_hwc(hwc, "HWC") == hwc
    if torso == "mlp":
        assert flops == 0 and smallest_image(torso) == 1
    else:  # 2 FLOPs per multiply-add of each conv kernel: the kernel's size times each output pixel
        convs = [v["kernel"].shape for k, v in sorted(p.items()) if k.startswith("conv")]
        outputs = [(h, w) for *_, h, w in conv_layers(torso, hwc)]
        assert flops == sum(2 * math.prod(k) * h * w for k, (h, w) in zip(convs, outputs))
    if torso == "nature-cnn" and hwc == (84, 84, 4):
        assert features == 3136 and flops == 15_474_688


def test_smallest_image_is_the_smallest_side_the_network_accepts():
    side = smallest_image("nature-cnn")
    assert side == 36  # (((1 - 1) * 1 + 3 - 1) * 2 + 4 - 1) * 4 + 8
    assert conv_layers("nature-cnn", (side, side, 1))[-1][3:] == (1, 1)
    assert conv_layers("nature-cnn", (side - 1, side - 1, 1))[-1][3:] == (0, 0)


# -- 3. layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "torso,hwc", [("minatar-cnn", (10, 10, 4)), ("minatar-cnn", (7, 12, 3)), ("nature-cnn", (44, 52, 2))]
)
def test_hwc_and_chw_inputs_give_identical_outputs(torso, hwc):
    chw = (hwc[2], hwc[0], hwc[1])
    net_hwc = make_network(hidden=(16,), out=5, obs_shape=hwc, torso=torso, image_layout="HWC")
    net_chw = make_network(hidden=(16,), out=5, obs_shape=chw, torso=torso, image_layout="CHW")
    params = _init(net_hwc, hwc)
    assert jax.tree_util.tree_map(jnp.shape, jax.eval_shape(lambda: _init(net_chw, chw))) == jax.tree_util.tree_map(
        jnp.shape, params
    )
    obs = jax.random.normal(jax.random.PRNGKey(3), (2, 3) + hwc)  # two batch dimensions
    out_hwc = jax.jit(net_hwc.apply)({"params": params}, obs)
    out_chw = jax.jit(net_chw.apply)({"params": params}, jnp.moveaxis(obs, -1, -3))
    assert out_hwc.shape == out_chw.shape == (2, 3, 5)
    np.testing.assert_allclose(np.asarray(out_chw), np.asarray(out_hwc), rtol=1e-5, atol=1e-6)
    # and the comparison has teeth: a spatially transposed image changes the output
    if hwc[0] == hwc[1]:
        swapped = jax.jit(net_hwc.apply)({"params": params}, jnp.swapaxes(obs, -3, -2))
        assert not np.allclose(np.asarray(swapped), np.asarray(out_hwc), atol=1e-4)


# -- 4. first-layer summaries ----------------------------------------------------------------


def _q_params(net, obs_shape):
    return {"q": _init(net, obs_shape)}


def test_conv_input_layer_summary_is_a_per_channel_sum_over_conv_0():
    spec = make_env("Breakout-MinAtar")
    net = make_network(
        hidden=(32,),
        out=spec.num_actions,
        obs_shape=spec.obs_shape,
        torso="minatar-cnn",
        image_layout=spec.image_layout,
    )
    params = _q_params(net, spec.obs_shape)
    prunable = prunable_tree(params, "actor")
    total = sum(int(np.prod(v["kernel"].shape)) for v in params["q"].values())
    mask = random_global_mask(jax.random.PRNGKey(1), params, prunable, total // 3)
    kernel = np.asarray(params["q"]["conv_0"]["kernel"])  # [kh, kw, in, filters]
    keep = np.asarray(mask["q"]["conv_0"]["kernel"])
    assert 0 < keep.sum() < keep.size
    summary = input_layer_summary(params, mask)["q"]
    assert summary["layer"] == "conv_0" and summary["units"] == 16
    assert len(summary["kept"]) == len(summary["magnitude"]) == 4
    for c in range(4):
        assert summary["kept"][c] == int(keep[:, :, c, :].sum())
        assert summary["magnitude"][c] == pytest.approx(
            float(np.abs(kernel[:, :, c, :] * keep[:, :, c, :]).sum()), rel=1e-5
        )
    row = level_summary(params, mask, prunable)
    np.testing.assert_allclose(
        channel_density(row, spec.obs_shape, spec.image_layout), keep.mean(axis=(0, 1, 3)), rtol=1e-6
    )
    np.testing.assert_allclose(
        channel_magnitude(row, spec.obs_shape, spec.image_layout), np.abs(kernel * keep).sum(axis=(0, 1, 3)), rtol=1e-5
    )
    with pytest.raises(ValueError):
        pixel_maps(row, spec.obs_shape, spec.image_layout)


def test_dense_summary_of_an_hwc_observation_reads_channels_last():
    spec = make_env("Breakout-MinAtar")
    assert spec.obs_shape == (10, 10, 4) and spec.image_layout == "HWC" and spec.channel_names[2] == "trail"
    units = 32
    net = make_network(hidden=(units,), out=spec.num_actions, obs_shape=spec.obs_shape, image_layout="HWC")
    params = _q_params(net, spec.obs_shape)
    kernel = np.asarray(params["q"]["dense_0"]["kernel"])
    assert kernel.shape == (400, units)
    # keep only the inputs of channel 2 ("trail"), and of those a pixel-dependent number of units
    rng = np.random.default_rng(0)
    keep0 = np.zeros_like(kernel, bool)
    counts = np.zeros((10, 10), int)
    for r in range(10):
        for c in range(10):
            n = int(rng.integers(0, units + 1))
            counts[r, c] = n
            keep0[r * 10 * 4 + c * 4 + 2, rng.permutation(units)[:n]] = True
    r, c = 3, 7
    counts[r, c] = 5
    keep0[r * 40 + c * 4 + 2] = False
    keep0[r * 40 + c * 4 + 2, [0, 4, 9, 17, 30]] = True
    mask = jax.tree_util.tree_map(lambda x: np.ones(x.shape, bool), params)
    mask["q"]["dense_0"]["kernel"] = keep0

    # which kernel row does pixel (r, c) of channel 2 drive? ask the network's own flattening
    image = np.zeros(spec.obs_shape, np.float32)
    image[r, c, 2] = 1.0
    layers = {k: dict(v) for k, v in params["q"].items()}
    layers["dense_0"] = {"kernel": jnp.asarray(np.where(keep0, kernel, 0.0)), "bias": jnp.zeros(units)}
    _, state = net.apply(
        {"params": layers}, jnp.asarray(image)[None], capture_intermediates=True, mutable=["intermediates"]
    )
    hidden = np.asarray(state["intermediates"]["dense_0"]["__call__"][0])[0]
    assert (hidden != 0).sum() == 5

    row = {"input_layer": input_layer_summary(params, mask), "layer_density": {"q/dense_0/kernel": float(keep0.mean())}}
    assert row["input_layer"]["q"]["layer"] == "dense_0" and len(row["input_layer"]["q"]["kept"]) == 400
    maps = pixel_maps(row, spec.obs_shape, spec.image_layout)
    for key in ("kept", "magnitude"):
        assert maps[key].shape == (4, 10, 10)
        assert not maps[key][[0, 1, 3]].any(), f"{key} leaks out of channel 2"
    np.testing.assert_array_equal(maps["kept"][2], counts)
    assert maps["kept"][2, r, c] == 5
    assert maps["magnitude"][2, r, c] == pytest.approx(float(np.abs(hidden).sum()), rel=1e-5)
    np.testing.assert_array_equal(to_chw(np.arange(400), spec.obs_shape, "HWC")[2, r, c], r * 40 + c * 4 + 2)
    density = channel_density(row, spec.obs_shape, spec.image_layout)
    np.testing.assert_allclose(density, [0, 0, counts.sum() / (100 * units), 0], rtol=1e-6)
    magnitude = channel_magnitude(row, spec.obs_shape, spec.image_layout)
    assert magnitude[[0, 1, 3]].sum() == 0
    assert magnitude[2] == pytest.approx(float(np.abs(np.where(keep0, kernel, 0)).sum()), rel=1e-5)


# -- 5. end to end ---------------------------------------------------------------------------


CONDITIONS = ("mask_weights", "mask_permuted", "permuted_permuted", "random_reinit", "mask_reinit")


def _breakout_cnn(out):
    from ticketlab.presets import preset

    base = preset("cartpole-dqn")
    return dataclasses.replace(
        base,
        name="breakout-cnn",
        seeds=1,
        levels=2,
        out=str(out),
        env=dataclasses.replace(base.env, name="Breakout-MinAtar"),
        network=dataclasses.replace(base.network, torso="minatar-cnn", q_hidden=(32,)),
        dqn=dataclasses.replace(
            base.dqn,
            total_steps=2_000,
            learning_starts=256,
            buffer_size=1_000,
            batch_size=64,
            eps_anneal_steps=1_000,
            eval_every=16,
            eval_episodes=1,
        ),
        imp=dataclasses.replace(base.imp, conditions=CONDITIONS),
    )


@pytest.mark.slow  # about 80 s on a shared 2-core CPU, mostly compilation; run with -m slow
def test_imp_on_breakout_with_the_minatar_cnn(tmp_path):
    from ticketlab.experiments.experiment import run
    from ticketlab.reporting.plots import plot_run
    from ticketlab.store.results import load_metrics

    start = time.monotonic()
    run_dir = run(_breakout_cnn(tmp_path / "runs"))
    rows = load_metrics(run_dir)
    assert {r["level"] for r in rows} == {0, 1}
    assert sorted(r["condition"] for r in rows if r["level"] == 1) == sorted(CONDITIONS)
    prunable = 3 * 3 * 4 * 16 + 8 * 8 * 16 * 32 + 32 * 3
    for r in rows:
        layer = r["input_layer"]["q"]
        assert layer["layer"] == "conv_0"
        assert len(layer["kept"]) == len(layer["magnitude"]) == 4
        assert r["prunable_weights"] == prunable
        assert set(r["layer_density"]) == {"q/conv_0/kernel", "q/dense_0/kernel", "q/dense_1/kernel"}
        if r["level"] == 0:
            assert r["density"] == 1.0 and layer["kept"] == [9 * 16] * 4
        else:
            assert r["remaining_weights"] == prunable - math.ceil(0.2 * prunable)
            assert r["density"] == pytest.approx(0.8, abs=1 / prunable)
            assert sum(layer["kept"]) == round(r["layer_density"]["q/conv_0/kernel"] * 3 * 3 * 4 * 16)
    names = sorted(p.stem for p in plot_run(run_dir))
    assert "channel_density" in names and "pixel_magnitude" not in names and "pixel_kept" not in names
    assert (run_dir / "figures" / "channel_density.png").stat().st_size > 0
    print(f"breakout cnn IMP run: {time.monotonic() - start:.1f} s")


@pytest.mark.parametrize(
    "features,size,stride,shape",
    [(16, 3, 1, (10, 10, 4)), (32, 8, 4, (84, 84, 4)), (64, 4, 2, (20, 20, 32)), (8, 3, 2, (7, 12, 3))],
)
def test_patch_conv_is_flax_conv_as_one_matmul(features, size, stride, shape):
    """The im2col convolution the networks use computes nn.Conv (VALID, strided) with the same
    parameters, values and gradients, to float rounding."""
    from flax import linen as nn

    from ticketlab.networks.network import PatchConv

    init = nn.initializers.lecun_normal()
    ours = PatchConv(features, size, stride, init, nn.initializers.normal(1.0))
    ref = nn.Conv(features, (size, size), (stride, stride), padding="VALID")
    x = jax.random.normal(jax.random.PRNGKey(0), (3,) + shape)
    params = ours.init(jax.random.PRNGKey(1), x)
    assert jax.tree_util.tree_map(jnp.shape, params) == jax.tree_util.tree_map(
        jnp.shape, ref.init(jax.random.PRNGKey(1), x)
    )
    out, out_ref = ours.apply(params, x), ref.apply(params, x)
    assert out.shape == out_ref.shape
    np.testing.assert_allclose(np.asarray(out), np.asarray(out_ref), rtol=1e-4, atol=1e-4)
    loss = lambda module: lambda p: jnp.sum(jnp.sin(module.apply(p, x)))  # noqa: E731
    grads, grads_ref = jax.grad(loss(ours))(params), jax.grad(loss(ref))(params)
    for a, b in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(grads_ref)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-3, atol=1e-3)
