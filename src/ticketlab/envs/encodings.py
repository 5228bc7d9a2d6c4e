"""Observation encodings applied by the agent, not the environment: the replay buffer and rollouts
keep the environment's compact observation, the network sees the encoded one (`rgb`: uint8 stored,
value / 255 seen).

`entangled` (paper SI B): the object map, flattened, times a fixed matrix with entries drawn
i.i.d. from U(-1, 1). Each seed has its own matrix, the same at every IMP level and condition: it
is drawn from the run's data key, which derives from the seed alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

_ENTANGLE_PURPOSE = 7


@dataclass(frozen=True)
class Encoder:
    init: Callable
    """data key -> encoder params (e.g. the projection matrix)."""
    apply: Callable
    """(encoder params, observation batch [..., *raw shape]) -> network input [..., *obs shape]."""


def entangle_matrix(data_key: jax.Array, size: int) -> jax.Array:
    return jax.random.uniform(jax.random.fold_in(data_key, _ENTANGLE_PURPOSE), (size, size), jnp.float32, -1.0, 1.0)


def entangled(raw_shape: tuple[int, ...]) -> Encoder:
    size = 1
    for d in raw_shape:
        size *= d
    ndim = len(raw_shape)

    def apply(matrix, obs):
        flat = obs.reshape(obs.shape[: obs.ndim - ndim] + (size,)).astype(jnp.float32)
        return flat @ matrix

    return Encoder(init=lambda key: entangle_matrix(key, size), apply=apply)


def scaled(factor: float) -> Encoder:
    """Integer images (RGB) as floats times `factor` (1/255: values in [0, 1])."""
    return Encoder(init=lambda key: None, apply=lambda _, obs: obs.astype(jnp.float32) * factor)


def divided(divisor: float) -> Encoder:
    """Integer images (ALE frames) as floats divided by `divisor` (255: values in [0, 1])."""
    return Encoder(init=lambda key: None, apply=lambda _, obs: obs.astype(jnp.float32) / divisor)


def encode(encoder: Encoder | None, params, obs):
    """The network input for `obs` (identity when the env has no encoder)."""
    return obs if encoder is None else encoder.apply(params, obs)


def encoder_params(encoder: Encoder | None, data_key):
    return None if encoder is None else encoder.init(data_key)
