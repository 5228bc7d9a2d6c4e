"""Weight initialization schemes by name: `register_init(name, fn)` with
`fn(fan_in, is_output, is_policy) -> (kernel_init, bias_init)`.

`fan_in` follows PyTorch's rule: input features of a dense layer, in_channels x kernel height x
kernel width of a conv layer. flax's variance-scaling initializers compute the same fan from a conv
kernel's shape (receptive field x in-channels), so Kaiming and Xavier agree with torch for both.

torch-default reproduces PyTorch's nn.Linear / nn.Conv2d reset_parameters (what the paper's code
used): kernel Kaiming-uniform with a = sqrt(5), i.e. U(+-1/sqrt(fan_in)), and bias
U(+-1/sqrt(fan_in)).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import linen as nn

from ticketlab.core.registry import Registry

INIT_SCHEMES: Registry[Callable] = Registry("init.scheme")
"""Every weight initialization `--init.scheme` can name (torch-default, kaiming-normal,
xavier-uniform, orthogonal, ...), each checked against PyTorch's in the tests."""


def register_init(name: str, scheme: Callable, *, replace: bool = False) -> Callable:
    """`scheme(fan_in, is_output, is_policy) -> (kernel_init, bias_init)`."""
    return INIT_SCHEMES.register(name, scheme, replace=replace)


def uniform(bound: float):
    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def _torch_default(fan_in, is_output, is_policy):
    bound = 1.0 / float(fan_in) ** 0.5
    return uniform(bound), uniform(bound)


def _kaiming_normal(fan_in, is_output, is_policy):
    return nn.initializers.variance_scaling(2.0, "fan_in", "normal"), nn.initializers.zeros


def _xavier_uniform(fan_in, is_output, is_policy):
    return nn.initializers.xavier_uniform(), nn.initializers.zeros


def _orthogonal(fan_in, is_output, is_policy):
    gain = (0.01 if is_policy else 1.0) if is_output else 2.0**0.5
    return nn.initializers.orthogonal(gain), nn.initializers.zeros


for _name, _scheme in (
    ("torch-default", _torch_default),
    ("kaiming-normal", _kaiming_normal),
    ("xavier-uniform", _xavier_uniform),
    ("orthogonal", _orthogonal),
):
    register_init(_name, _scheme)


def _scaled(init, scale: float):
    if scale == 1.0:
        return init

    def scaled(key, shape, dtype=jnp.float32):
        return scale * init(key, shape, dtype)

    return scaled


def layer_initializers(scheme: str, fan_in: int, is_output: bool, is_policy: bool, scale: float = 1.0):
    """(kernel_init, bias_init) for one layer; `scale` multiplies the kernel only."""
    kernel, bias = INIT_SCHEMES.get(scheme)(fan_in, is_output, is_policy)
    return _scaled(kernel, scale), bias
