"""Weight-initialization schemes, each a pair of flax initializers for one dense layer.

`torch-default` reproduces PyTorch's `nn.Linear.reset_parameters` (what the paper's code used):
kernel Kaiming-uniform with a = sqrt(5), i.e. U(+-1/sqrt(fan_in)), and bias U(+-1/sqrt(fan_in)).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

SCHEMES = ("torch-default", "kaiming-normal", "xavier-uniform", "orthogonal")


def _uniform(bound: float):
    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def _scaled(init, scale: float):
    if scale == 1.0:
        return init

    def scaled(key, shape, dtype=jnp.float32):
        return scale * init(key, shape, dtype)

    return scaled


def layer_initializers(scheme: str, fan_in: int, is_output: bool, is_policy: bool, scale: float = 1.0):
    """(kernel_init, bias_init) for one dense layer; `scale` multiplies the kernel only."""
    if scheme == "torch-default":
        bound = 1.0 / float(fan_in) ** 0.5
        kernel, bias = _uniform(bound), _uniform(bound)
    elif scheme == "kaiming-normal":
        kernel, bias = nn.initializers.variance_scaling(2.0, "fan_in", "normal"), nn.initializers.zeros
    elif scheme == "xavier-uniform":
        kernel, bias = nn.initializers.xavier_uniform(), nn.initializers.zeros
    elif scheme == "orthogonal":
        gain = (0.01 if is_policy else 1.0) if is_output else 2.0**0.5
        kernel, bias = nn.initializers.orthogonal(gain), nn.initializers.zeros
    else:
        raise ValueError(f"init.scheme: unknown {scheme!r}; allowed: {', '.join(SCHEMES)}")
    return _scaled(kernel, scale), bias
