import dataclasses
import os

import pytest

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")

from ticketlab.config import ExperimentConfig, IMPConfig, PPOConfig  # noqa: E402
from ticketlab.presets import preset  # noqa: E402


def tiny_config(out, **overrides) -> ExperimentConfig:
    """A Cart-Pole config that trains in about a second per level (after compilation)."""
    base = preset("cartpole-ppo")
    cfg = dataclasses.replace(
        base,
        seeds=2,
        levels=3,
        out=str(out),
        ppo=dataclasses.replace(base.ppo, total_steps=1024, eval_every=4, eval_episodes=2),
    )
    return dataclasses.replace(cfg, **overrides)


@pytest.fixture
def tiny(tmp_path):
    return tiny_config(tmp_path / "runs")


__all__ = ["tiny_config", "ExperimentConfig", "IMPConfig", "PPOConfig"]
