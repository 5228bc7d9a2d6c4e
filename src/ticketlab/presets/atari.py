"""ALE games (SI C.5, table 9; figure 4) through ale-py's XLA interface, the `[atari]` extra: PPO with
Nature-CNN actor and critic on rlpyt's AtariEnv settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ticketlab.core.config import (
    AtariConfig,
    EnvConfig,
    EvalConfig,
    ExperimentConfig,
    IMPConfig,
    NetworkConfig,
    PPOConfig,
)
from ticketlab.presets import framework
from ticketlab.presets.base import Preset

GAMES = {
    "pong": "ALE/Pong-v5",
    "breakout": "ALE/Breakout-v5",
    "spaceinvaders": "ALE/SpaceInvaders-v5",
    "freeway": "ALE/Freeway-v5",
}
"""Figure 4's ALE subset (the paper names no games): Pong, Breakout, SpaceInvaders, and Freeway, the
fourth whose MinAtar version the paper prunes. Any other game: `atari-ppo --env.name ALE/<Game>-v5`."""

DEMO = {"total_steps": 12_800, "eval_every": 5, "eval_episodes": 2, "max_frames": 8_000}
"""The Atari demo's budget per run (docs/presets.md says what it shows and what it cannot)."""


def ppo(env_id: str, name: str) -> Callable[[], ExperimentConfig]:
    # Table 9: Adam 5e-4, gamma 0.99, GAE 0.98, 2.5M env steps (rlpyt counts agent steps of 4 frames),
    # value 0.5, entropy 0.001, clip 0.2, 10 workers, 10 epochs; the actor pruned alone (AP). Open
    # choices, from rlpyt's atari_ff_ppo config: 64 steps per worker per update, the learning rate
    # annealed linearly, gradient-norm clip 1, 4 minibatches. The Nature CNN (32 8x8/4, 64 4x4/2,
    # 64 3x3/1, dense 512, ReLU) for the actor and, separately, the critic; PyTorch's default init.
    # Evaluation: 8 whole games every 390 updates, actions sampled as rlpyt's PG agents do.
    def build() -> ExperimentConfig:
        return ExperimentConfig(
            name=name,
            seeds=1,
            levels=3,
            env=EnvConfig(env_id, atari=AtariConfig(max_frames=DEMO["max_frames"])),
            network=NetworkConfig(actor_hidden=(512,), critic_hidden=(512,), torso="nature-cnn", activation="relu"),
            ppo=PPOConfig(
                total_steps=DEMO["total_steps"],
                num_envs=10,
                rollout_len=64,
                epochs=10,
                minibatches=4,
                lr=5e-4,
                lr_schedule="linear",
                gamma=0.99,
                gae_lambda=0.98,
                clip_eps=0.2,
                value_coef=0.5,
                entropy_coef=0.001,
                max_grad_norm=1.0,
                eval_every=DEMO["eval_every"],
                eval_episodes=DEMO["eval_episodes"],
            ),
            eval=EvalConfig(policy="sample"),
            imp=IMPConfig(scope="actor", prune_fraction=0.5),
        )

    return build


PAPER = {
    "seeds": 5,
    "levels": 20,
    "block_seeds": 1,
    "ppo.total_steps": 2_500_000,
    "ppo.eval_every": 390,
    "ppo.eval_episodes": 8,
    "env.atari.max_frames": AtariConfig().max_frames,
    "imp.prune_fraction": 0.2,
}


def _entries() -> Iterator[Preset]:
    for game, env_id in GAMES.items():
        yield Preset(
            f"{game}-atari-ppo",
            "atari",
            ppo(env_id, f"{game}-atari-ppo"),
            f"PPO, Nature-CNN actor and critic, on {env_id}, actor pruned (table 9, figure 4); needs the [atari] extra",
            paper=PAPER,
            framework=framework.PPO,
        )
    yield Preset(
        "atari-ppo",
        "atari",
        ppo("ALE/Pong-v5", "atari-ppo"),
        "table 9's PPO on any ALE game: --env.name ALE/<Game>-v5 (default Pong); needs the [atari] extra",
        paper=PAPER,
        framework=framework.PPO,
    )


ENTRIES = tuple(_entries())
