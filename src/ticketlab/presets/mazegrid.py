"""MazeGrid (paper SI B), the visual navigation task of figures 1, 4, 5, 13 and 14: DQN on its
object-map encoding (SI C.4, table 8); PPO on it for figure 12 (left), which has no table."""

from __future__ import annotations

from ticketlab.core.config import DQNConfig, EnvConfig, ExperimentConfig, IMPConfig, NetworkConfig, PPOConfig
from ticketlab.presets import framework
from ticketlab.presets.base import Preset


def mazegrid_dqn() -> ExperimentConfig:
    # Table 8: Adam 5e-4, gamma 0.99, batch 256, Huber delta 1, grad-norm clip 10, epsilon 1 -> 0.01
    # over 1M frames, evaluation epsilon 0.001, replay 100k with alpha 0.6 and beta 0.4 -> 1, data
    # replay ratio 4, 5M env steps. Open choices: ReLU MLP 128,128, 8 envs, 20k steps before learning,
    # a hard target copy every 312 updates (rlpyt's default). Demo: 300k steps (epsilon over 100k),
    # 5 levels of 50 %.
    return ExperimentConfig(
        name="mazegrid-dqn",
        algo="dqn",
        seeds=2,
        levels=5,
        env=EnvConfig("MazeGrid-v0", "object-map"),
        network=NetworkConfig(q_hidden=(128, 128), activation="relu"),
        dqn=DQNConfig(
            total_steps=300_000,
            lr=5e-4,
            batch_size=256,
            replay_ratio=4,
            eps_final=0.01,
            eps_anneal_steps=100_000,
            eps_eval=0.001,
            eval_every=250,
        ),
        imp=IMPConfig(prune_fraction=0.5),
    )


def mazegrid_ppo() -> ExperimentConfig:
    # Figure 12 (left); the paper gives no table for it. Cart-Pole's PPO (table 3: Adam 5e-4, gamma
    # 0.99, GAE 0.8, value 0.5, entropy 0.001, clip 0.2, 4 workers, 4 epochs) with MazeGrid's budget
    # (table 8: 5M env steps at paper scale) and the DQN preset's 128,128 network, actor pruned. Demo:
    # 300k steps, 5 levels of 50 %, as mazegrid-dqn.
    return ExperimentConfig(
        name="mazegrid-ppo",
        seeds=2,
        levels=5,
        env=EnvConfig("MazeGrid-v0", "object-map"),
        network=NetworkConfig(actor_hidden=(128, 128), critic_hidden=(128, 128)),
        ppo=PPOConfig(total_steps=300_000, lr=5e-4, gae_lambda=0.8, entropy_coef=0.001, eval_every=250),
        imp=IMPConfig(prune_fraction=0.5),
    )


ENTRIES = (
    Preset(
        "mazegrid-dqn",
        "mazegrid",
        mazegrid_dqn,
        "DQN (double Q, prioritized replay) on MazeGrid, object-map encoding (table 8, figures 4, 5, 13, 14)",
        paper={
            "seeds": 5,
            "levels": 20,
            "dqn.total_steps": 5_000_000,
            "dqn.eps_anneal_steps": 1_000_000,
            "dqn.eval_every": 500,
            "imp.prune_fraction": 0.2,
        },
        framework=framework.DQN,
    ),
    Preset(
        "mazegrid-ppo",
        "mazegrid",
        mazegrid_ppo,
        "PPO on MazeGrid, actor pruned: no table in the paper; table 3's PPO at MazeGrid's budget (figure 12, left)",
        paper={
            "seeds": 5,
            "levels": 20,
            "ppo.total_steps": 5_000_000,
            "ppo.eval_every": 500,
            "imp.prune_fraction": 0.2,
        },
        framework=framework.PPO,
    ),
)
