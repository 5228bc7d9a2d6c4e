"""MazeGrid frames as pictures: PNG (one frame) or animated GIF (an episode)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from ticketlab.core.errors import ConfigError
from ticketlab.envs import mazegrid

FORMATS = (".gif", ".png")


def frame_rgb(obs) -> np.ndarray:
    """uint8 [3, H, W] from a MazeGrid observation in either encoding (object map or RGB)."""
    obs = np.asarray(obs)
    if obs.dtype == np.bool_:
        return np.asarray(mazegrid.rgb(obs))
    return obs.astype(np.uint8)


def to_image(rgb_chw: np.ndarray, cell: int = 24) -> Image.Image:
    """Each grid cell as a `cell` x `cell` block with a 1-pixel dark border."""
    hwc = np.transpose(rgb_chw, (1, 2, 0))
    big = np.kron(hwc, np.ones((cell, cell, 1), np.uint8))
    big[::cell, :, :] = 24
    big[:, ::cell, :] = 24
    return Image.fromarray(big, "RGB")


def save_frames(frames: list[np.ndarray], path: Path, fps: int = 6, cell: int = 24) -> Path:
    """Write `path` atomically: .gif animates every frame, .png holds the first."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ConfigError("render", f"unknown file type {path.suffix!r}; allowed: {', '.join(FORMATS)}")
    images = [to_image(frame_rgb(f), cell) for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    if path.suffix.lower() == ".gif":
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    else:
        images[0].save(tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
