"""MinAtar on gymnax (SI A.1, C.6): DQN and Q-value distillation with MLP and CNN value networks
(figures 6, 9, 10), `--network.torso cnn` for table 10's CNN."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ticketlab.core.config import (
    BCConfig,
    DQNConfig,
    EnvConfig,
    ExperimentConfig,
    IMPConfig,
    NetworkConfig,
    StudentConfig,
)
from ticketlab.presets import framework
from ticketlab.presets.base import Preset

GAMES = {
    "breakout": "Breakout-MinAtar",
    "spaceinvaders": "SpaceInvaders-MinAtar",
    "freeway": "Freeway-MinAtar",
    "asterix": "Asterix-MinAtar",
    "seaquest": "Seaquest-MinAtar",
}
"""The paper's four MinAtar games and Seaquest as an extra."""

EXPERT_THRESHOLDS = {"breakout": 4.0, "spaceinvaders": 20.0, "freeway": 20.0, "asterix": 2.0, "seaquest": 0.5}
"""Mean evaluation return a cached demo-budget MinAtar DQN expert must reach: several times a uniformly
random policy's, below what the demo budget reaches (docs/presets.md)."""

CNN = "minatar-cnn"
DQN_NETWORKS = {"mlp": {}, CNN: {"network.torso": CNN, "network.q_hidden": (128, 64)}}
"""Table 10's value networks: the MLP teacher 512,256; the CNN Conv2D-16x3 then 128,64."""

BC_NETWORKS = {"mlp": {}, CNN: {"network.torso": CNN, "bc.expert_torso": CNN, "student.hidden": (128, 64)}}
"""Table 10's students: MLP 1024,512; the CNN as the teacher's (distilled from the CNN expert)."""

BC_PAPER_DATA = {"mlp": 10_000_000, CNN: 5_000_000}
"""Table 10's expert transitions (training environment steps) per student torso."""


def dqn(game: str) -> Callable[[], ExperimentConfig]:
    # Table 11: Adam 2.5e-4, gamma 0.99, batch 256, Huber delta 1, grad-norm clip 10, replay 100k
    # (alpha 0.6, beta 0.4 -> 1), data replay ratio 4, epsilon 1 -> 0.05 over 7.5M frames, evaluation
    # epsilon 0.001, "15.000.00" training steps read as 15M. Open choices as mazegrid-dqn: 8 envs,
    # 20k steps before learning, a target copy every 312 updates, 8 evaluation episodes every 2,000
    # updates. Demo: 500k steps, epsilon over 100k, 5k steps before learning, evaluation every 250
    # updates, 4 levels of 50 %.
    def build() -> ExperimentConfig:
        return ExperimentConfig(
            name=f"{game}-minatar-dqn",
            algo="dqn",
            seeds=2,
            levels=4,
            env=EnvConfig(GAMES[game], sticky_actions=0.1),
            network=NetworkConfig(q_hidden=(512, 256), activation="relu", torso="mlp"),
            dqn=DQNConfig(
                total_steps=500_000,
                num_envs=8,
                buffer_size=100_000,
                batch_size=256,
                replay_ratio=4,
                learning_starts=5_000,
                lr=2.5e-4,
                eps_final=0.05,
                eps_anneal_steps=100_000,
                eps_eval=0.001,
                target_update_every=312,
                eval_every=250,
            ),
            imp=IMPConfig(prune_fraction=0.5),
        )

    return build


def bc(game: str) -> Callable[[], ExperimentConfig]:
    # Table 10: students distil the expert's Q-values with a Huber loss (MLP 1024,512 or the CNN),
    # teachers MLP 512,256 or the CNN (a cached level-0 run of <game>-minatar-dqn with the same torso);
    # Adam 5e-4; 5 seeds. Open choices: batches of 256, one pass over the data, the expert's data epsilon
    # is its final 0.05, 8 evaluation episodes every 2,000 gradient steps. Demo: 200k expert transitions,
    # 2 epochs, a demo-budget expert.
    def build() -> ExperimentConfig:
        return ExperimentConfig(
            name=f"{game}-minatar-bc",
            algo="bc",
            seeds=2,
            levels=4,
            env=EnvConfig(GAMES[game], sticky_actions=0.1),
            network=NetworkConfig(activation="relu", torso="mlp"),
            bc=BCConfig(
                expert=f"{game}-minatar-dqn",
                expert_threshold=EXPERT_THRESHOLDS[game],
                expert_seeds=2,
                expert_torso="mlp",
                expert_scale="demo",
                total_steps=200_000,
                num_envs=8,
                lr=5e-4,
                epochs=2,
                batch_size=256,
                loss="huber_value",
                eval_every=200,
            ),
            student=StudentConfig(hidden=(1024, 512)),
            imp=IMPConfig(prune_fraction=0.5),
        )

    return build


PAPER = {"seeds": 5, "levels": 20, "imp.prune_fraction": 0.2}


def _entries() -> Iterator[Preset]:
    for game, env_id in GAMES.items():
        paper = "not in the paper" if game == "seaquest" else None
        yield Preset(
            f"{game}-minatar-dqn",
            "minatar",
            dqn(game),
            f"DQN on {env_id}, MLP 512,256 or --network.torso cnn (table 11, {paper or 'figures 6, 10'})",
            paper={
                **PAPER,
                "dqn.total_steps": 15_000_000,
                "dqn.eps_anneal_steps": 7_500_000,
                "dqn.learning_starts": 20_000,
                "dqn.eval_every": 2_000,
            },
            torsos=DQN_NETWORKS,
            framework=framework.DQN,
            expert_threshold=EXPERT_THRESHOLDS[game],
        )
        yield Preset(
            f"{game}-minatar-bc",
            "minatar",
            bc(game),
            f"Q-value distillation of the {game}-minatar-dqn expert, MLP 1024,512 or --network.torso cnn "
            f"(table 10, {paper or 'figure 9'})",
            paper={
                **PAPER,
                "bc.expert_scale": "paper",
                "bc.epochs": 1,
                "bc.eval_every": 2_000,
                "bc.total_steps": lambda cfg: BC_PAPER_DATA[cfg.network.torso],
            },
            torsos=BC_NETWORKS,
            framework=framework.TORCH_PRUNING,
        )


ENTRIES = tuple(_entries())
