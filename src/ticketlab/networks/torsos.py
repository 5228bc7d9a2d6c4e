"""Conv stacks that may stand before a network's dense layers, by name (`network.torso`).

A torso is a tuple of (filters, kernel size, stride) conv layers with no padding (PyTorch's
default), each followed by the network's activation; its output is flattened into the dense
layers. `mlp` has no conv layer: the observation is flattened as it is.
"""
from __future__ import annotations

from ticketlab.registry import Registry

TORSOS: Registry[tuple[tuple[int, int, int], ...]] = Registry("network.torso")
TORSOS.register("mlp", ())
TORSOS.register("minatar-cnn", ((16, 3, 1),))
"""Paper table 10 (MinAtar's own network): Conv2D 16 filters 3x3 stride 1, then dense 128, 64."""
TORSOS.register("nature-cnn", ((32, 8, 4), (64, 4, 2), (64, 3, 1)))
"""Mnih et al. 2015 (Atari): 32 8x8/4, 64 4x4/2, 64 3x3/1, then dense 512."""


def register_torso(name: str, convs: tuple[tuple[int, int, int], ...], *, replace: bool = False):
    return TORSOS.register(name, tuple(tuple(c) for c in convs), replace=replace)

