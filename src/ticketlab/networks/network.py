"""One network for every agent: an optional conv torso, dense hidden layers and a linear output,
with layers named `conv_0 ..` and `dense_0 ..` under the module's name in params (`actor/conv_0`,
`critic/dense_1`, `q/dense_0`), which pruning scope, analyses, files and plots key on.

Build it with `make_network(...)` (keyword-only). A Gaussian policy network also holds a
state-independent `log_std` parameter (never pruned: it is not a kernel) and returns
(mean, log_std).
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
from flax import linen as nn

from ticketlab.core.registry import Registry
from ticketlab.networks.init import layer_initializers
from ticketlab.networks.torsos import TORSOS

ACTIVATIONS: Registry[Callable] = Registry("network.activation")
ACTIVATIONS.register("tanh", jnp.tanh)
ACTIVATIONS.register("relu", nn.relu)

MEAN_ACTIVATIONS = ("none", "tanh")
"""How a Gaussian head squashes its mean (network.mean-activation)."""


class PatchConv(nn.Module):
    """A VALID, strided 2-d convolution as one matmul over image patches (im2col), with the
    parameters of `nn.Conv` (kernel [size, size, in, features], bias [features]). The same
    function as `nn.Conv` up to float rounding, and several times faster on CPU, where XLA's
    convolutions of small images and their gradients are slow (bench/bench_dqn.py)."""

    features: int
    size: int
    stride: int
    kernel_init: Callable
    bias_init: Callable

    @nn.compact
    def __call__(self, x):
        k, s, c = self.size, self.stride, x.shape[-1]
        kernel = self.param("kernel", self.kernel_init, (k, k, c, self.features))
        bias = self.param("bias", self.bias_init, (self.features,))
        h, w = (x.shape[-3] - k) // s + 1, (x.shape[-2] - k) // s + 1
        cols = [x[..., i : i + s * (h - 1) + 1 : s, j : j + s * (w - 1) + 1 : s, :] for i in range(k) for j in range(k)]
        patches = jnp.concatenate(cols, axis=-1)  # [..., h, w, k * k * c] in (row, col, channel) order
        return patches @ kernel.reshape(k * k * c, self.features) + bias


class Network(nn.Module):
    """Conv layers `conv_i` (image inputs), dense layers `dense_0 .. dense_n`; the last dense layer
    is the linear output."""

    hidden: tuple[int, ...]
    out: int
    activation: str
    scheme: str
    input_scale: float
    is_policy: bool
    obs_shape: tuple[int, ...]
    convs: tuple[tuple[int, int, int], ...] = ()
    image_layout: str | None = None
    """"CHW" or "HWC" (the environment registry's fact); conv layers see height x width x channels."""
    dropout: float = 0.0
    """Dropout rate after every hidden dense layer when called with `train=True` (needs a "dropout" rng)."""
    gaussian: bool = False
    log_std_init: float = 0.0
    mean_activation: str = "none"
    """A Gaussian head's squashing of its mean: none, or tanh (rlpyt's MujocoFfModel)."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        ndim = len(self.obs_shape)
        batch = x.shape[: x.ndim - ndim]
        x = x.astype(jnp.float32)
        first = True
        if self.convs:
            x = x.reshape((-1,) + tuple(self.obs_shape))
            if self.image_layout == "CHW":
                x = jnp.transpose(x, (0, 2, 3, 1))
            for i, (features, size, stride) in enumerate(self.convs):
                fan_in = size * size * x.shape[-1]
                kernel_init, bias_init = layer_initializers(
                    self.scheme, fan_in, False, self.is_policy, self.input_scale if first else 1.0
                )
                x = PatchConv(features, size, stride, kernel_init, bias_init, name=f"conv_{i}")(x)
                x = ACTIVATIONS.get(self.activation)(x)
                first = False
            x = x.reshape(batch + (-1,))
        else:
            x = x.reshape(batch + (-1,))
        widths = tuple(self.hidden) + (self.out,)
        for i, width in enumerate(widths):
            last = i == len(widths) - 1
            kernel_init, bias_init = layer_initializers(
                self.scheme, x.shape[-1], last, self.is_policy, self.input_scale if first else 1.0
            )
            x = nn.Dense(width, kernel_init=kernel_init, bias_init=bias_init, name=f"dense_{i}")(x)
            first = False
            if not last:
                x = ACTIVATIONS.get(self.activation)(x)
                if self.dropout > 0.0:
                    x = nn.Dropout(self.dropout, deterministic=not train)(x)
        if self.gaussian:
            if self.mean_activation == "tanh":  # else "none" (MEAN_ACTIVATIONS)
                x = jnp.tanh(x)
            log_std = self.param("log_std", nn.initializers.constant(self.log_std_init), (self.out,))
            return x, jnp.broadcast_to(log_std, x.shape)
        return x


def make_network(
    *,
    hidden,
    out: int,
    obs_shape,
    activation: str = "tanh",
    scheme: str = "torch-default",
    input_scale: float = 1.0,
    is_policy: bool = False,
    torso: str = "mlp",
    image_layout: str | None = None,
    dropout: float = 0.0,
    gaussian: bool = False,
    log_std_init: float = 0.0,
    mean_activation: str = "none",
) -> Network:
    """The network of one module (keyword-only, so a call reads as what it builds)."""
    convs = TORSOS.get(torso)
    if convs and image_layout is None:
        raise ValueError(f"network.torso: {torso} needs an image observation; this one has shape {tuple(obs_shape)}")
    return Network(
        hidden=tuple(hidden),
        out=int(out),
        activation=activation,
        scheme=scheme,
        input_scale=float(input_scale),
        is_policy=is_policy,
        obs_shape=tuple(obs_shape),
        convs=convs,
        image_layout=image_layout,
        dropout=float(dropout),
        gaussian=gaussian,
        log_std_init=float(log_std_init),
        mean_activation=mean_activation,
    )


def first_layer(module_params: dict) -> str:
    """The name of a module's input layer: `conv_0` for a CNN, else `dense_0`."""
    return "conv_0" if "conv_0" in module_params else "dense_0"
