"""The paper's framework where the paper is silent: rlpyt's and PyTorch's pruning utilities'
choices (SI C: "implemented in Python using the rlpyt DRL training package and PyTorch pruning
utilities"), as the dotted fields a preset takes before its own settings. docs/fidelity.md gives
each choice its source line in rlpyt (commit f04f23d) and torch (2.13.0).

A preset names the sets it takes (`Preset.framework`); they are laid over its builder's config, so
a preset whose builder states another choice (the Bullet presets' whole-batch advantage
normalization, from rlpyt's MuJoCo config) does not take the set that would undo it. The presets
that are not the paper's (Pendulum, MountainCarContinuous, SAC) take none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TORCH_PRUNING: Mapping[str, Any] = {"imp.prune_count": "round"}
"""torch.nn.utils.prune: round(amount * n) of the still-unmasked weights (prune.py:1354)."""

RLPYT_PPO: Mapping[str, Any] = {
    "ppo.normalize_advantages": False,  # algos/pg/ppo.py:39 normalize_advantage=False
    "ppo.lr_schedule": "linear",  # linear_lr_schedule=True (:38), which also anneals the clip (:111-113)
    "ppo.clip_schedule": "linear",
}
"""rlpyt's PPO update where the tables say nothing."""

RLPYT_PG_EVAL: Mapping[str, Any] = {"eval.policy": "sample"}
"""rlpyt's PG agents draw their actions in evaluation too (agents/pg/categorical.py:40, gaussian.py:52)."""

RLPYT_TIME_LIMIT: Mapping[str, Any] = {"env.time_limit": "terminate"}
"""No bootstrap through time limits, in PPO's GAE (algos/utils.py:33-38) and DQN's targets (rlpyt's
environments end an episode at its horizon with done, the timeout only in env_info)."""

RLPYT_DQN: Mapping[str, Any] = {
    "dqn.priority_rule": "rlpyt",  # new samples at delta_clip, |TD| clamped to it (algos/dqn/dqn.py:70, 251)
    "dqn.eps_anneal_from": "learning",  # epsilon held at 1 until learning starts (epsilon_greedy.py:100-111)
}
"""rlpyt's DQN where tables 8 and 11 say nothing."""

PPO: Mapping[str, Any] = {**RLPYT_PPO, **RLPYT_PG_EVAL, **RLPYT_TIME_LIMIT, **TORCH_PRUNING}
"""A PPO preset whose tables give no more (classic control, MazeGrid, Atari)."""
MUJOCO_PPO: Mapping[str, Any] = {**RLPYT_PG_EVAL, **RLPYT_TIME_LIMIT, **TORCH_PRUNING}
"""A PPO preset built on rlpyt's MuJoCo config (the Bullet and Brax presets state its advantage
normalization and schedules themselves)."""
DQN: Mapping[str, Any] = {**RLPYT_DQN, **RLPYT_TIME_LIMIT, **TORCH_PRUNING}
"""A DQN preset."""
