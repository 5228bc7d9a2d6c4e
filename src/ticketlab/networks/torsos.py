"""Conv stacks that may stand before a network's dense layers, by name (`network.torso`).

A torso is a tuple of (filters, kernel size, stride) conv layers with no padding (PyTorch's
default), each followed by the network's activation; its output is flattened into the dense
layers. `mlp` has no conv layer: the observation is flattened as it is.
"""

from __future__ import annotations

from ticketlab.core.registry import Registry

TORSOS: Registry[tuple[tuple[int, int, int], ...]] = Registry("network.torso")
"""Every network torso `--network.torso` can name, as its conv layers (filters, kernel, stride);
mlp has none."""
TORSOS.register("mlp", ())
TORSOS.register("minatar-cnn", ((16, 3, 1),))
"""Paper table 10 (MinAtar's own network): Conv2D 16 filters 3x3 stride 1, then dense 128, 64."""
TORSOS.register("nature-cnn", ((32, 8, 4), (64, 4, 2), (64, 3, 1)))
"""Mnih et al. 2015 (Atari): 32 8x8/4, 64 4x4/2, 64 3x3/1, then dense 512."""


def register_torso(
    name: str, convs: tuple[tuple[int, int, int], ...], *, replace: bool = False
) -> tuple[tuple[int, int, int], ...]:
    """Add a conv torso: `convs` as (filters, kernel size, stride) per layer, before the dense
    layers of `network.actor-hidden`."""
    return TORSOS.register(name, tuple((int(c[0]), int(c[1]), int(c[2])) for c in convs), replace=replace)


def image_hwc(obs_shape: tuple[int, ...], image_layout: str) -> tuple[int, int, int]:
    """(height, width, channels) of an image observation stored as `image_layout` (HWC or CHW)."""
    if image_layout == "CHW":
        c, h, w = obs_shape
        return h, w, c
    h, w, c = obs_shape
    return h, w, c


def conv_layers(torso: str, hwc: tuple[int, int, int]) -> list[tuple[int, int, int, int, int]]:
    """(in channels, filters, kernel size, output height, output width) of each conv layer of
    `torso` on an image of shape `hwc` (no padding)."""
    h, w, c = hwc
    layers = []
    for filters, size, stride in TORSOS.get(torso):
        h, w = (h - size) // stride + 1, (w - size) // stride + 1
        layers.append((c, filters, size, h, w))
        c = filters
    return layers


def smallest_image(torso: str) -> int:
    """The smallest square image side on which every conv layer of `torso` sees one whole kernel."""
    side = 1
    for _, size, stride in reversed(TORSOS.get(torso)):
        side = (side - 1) * stride + size
    return side


def torso_forward(torso: str, hwc: tuple[int, int, int]) -> tuple[int, int]:
    """(FLOPs of one forward pass of the conv layers on one image, 2 per multiply-add; features
    they flatten into the dense layers). `mlp`: (0, the image's size)."""
    layers = conv_layers(torso, hwc)
    if not layers:
        return 0, hwc[0] * hwc[1] * hwc[2]
    flops = sum(2 * size * size * c_in * filters * h * w for c_in, filters, size, h, w in layers)
    _, filters, _, h, w = layers[-1]
    return flops, h * w * filters
