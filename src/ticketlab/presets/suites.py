"""Today's pure-JAX suites, one game each (not the paper's tasks; docs/suites.md): Craftax-Classic's
symbolic and pixel observations, XLand-MiniGrid's Empty-8x8, Jumanji's Snake. PPO, actor pruned:
an MLP on the symbolic observations (map cells, grid tiles, feature maps), the Nature CNN on
Craftax's pixels. Not the paper's
tasks, so, like Pendulum's presets, they keep the bare config's choices where rlpyt's differ
(presets/framework.py is for the paper's).

The suites' own baselines train PureJaxRL-style PPO (or A2C) for 1e6-1e9 steps on accelerators;
the settings below are ours where marked (not checked against those baselines' sources here), the
demo budgets what 2 CPU cores do in minutes, and the paper-scale overrides a budget of the
suite's own order, for a GPU host or a cluster (docs/suites.md).
"""

from __future__ import annotations

import dataclasses

from ticketlab.core.config import EnvConfig, ExperimentConfig, IMPConfig, NetworkConfig, PPOConfig
from ticketlab.presets.base import Preset


def craftax_classic_ppo() -> ExperimentConfig:
    # After the PPO of the Craftax paper (Matthews et al. 2024: 1e9 steps, 1024 environments, width 512):
    # Adam 2e-4, GAE 0.8, entropy 0.01, 4 epochs of 8 minibatches, rollouts of 64 steps (ours where the
    # paper's baseline may differ). Demo: 16 environments, width 256, 32,768 steps, 1 seed, 2 levels of
    # 50 % (Craftax-Classic steps at a few hundred per second on these cores: the demo shows the
    # pipeline and which observation parts go first, not a skilled agent).
    return ExperimentConfig(
        name="craftax-classic-ppo",
        seeds=1,
        levels=2,
        env=EnvConfig("craftax:Craftax-Classic-Symbolic-v1"),
        network=NetworkConfig(actor_hidden=(256, 256), critic_hidden=(256, 256)),
        ppo=PPOConfig(
            total_steps=32_768,
            num_envs=16,
            rollout_len=64,
            epochs=4,
            minibatches=8,
            lr=2e-4,
            gae_lambda=0.8,
            entropy_coef=0.01,
            eval_every=8,
            eval_episodes=4,
        ),
        imp=IMPConfig(prune_fraction=0.5),
    )


def craftax_classic_pixels_ppo() -> ExperimentConfig:
    # The same PPO on Craftax-Classic's 63x63 RGB frames under the Nature CNN (ours: Craftax's own
    # pixel baseline has a conv net of its own), actor and critic each with their own torso. Demo:
    # 1 seed, 2 levels of 50 %, 16,384 steps (rendering the frames makes a step about 1.6 times as
    # costly as the symbolic game's here: a smoke run of the pipeline, not a skilled agent).
    cfg = craftax_classic_ppo()
    return dataclasses.replace(
        cfg,
        name="craftax-classic-pixels-ppo",
        env=EnvConfig("craftax:Craftax-Classic-Pixels-v1"),
        network=dataclasses.replace(cfg.network, torso="nature-cnn", actor_hidden=(256,), critic_hidden=(256,)),
        ppo=dataclasses.replace(cfg.ppo, total_steps=16_384),
    )


def _small_ppo(name: str, env_id: str, *, levels: int, total_steps: int, eval_every: int) -> ExperimentConfig:
    """Ours: table 3's PPO with GAE 0.95 and entropy 0.01, 64,64 actor and critic, 16 environments,
    2 seeds, levels of 50 %."""
    return ExperimentConfig(
        name=name,
        seeds=2,
        levels=levels,
        env=EnvConfig(env_id),
        network=NetworkConfig(actor_hidden=(64, 64), critic_hidden=(64, 64)),
        ppo=PPOConfig(
            total_steps=total_steps,
            num_envs=16,
            gae_lambda=0.95,
            entropy_coef=0.01,
            eval_every=eval_every,
            eval_episodes=8,
        ),
        imp=IMPConfig(prune_fraction=0.5),
    )


def empty_xminigrid_ppo() -> ExperimentConfig:
    # Empty-8x8 is solved in tens of thousands of steps here, so the demo asks how sparse a network
    # still solves it: 32k steps, 10 levels of 50 % (down to 0.2 %).
    env_id = "xminigrid:MiniGrid-Empty-8x8"
    return _small_ppo("empty-xminigrid-ppo", env_id, levels=10, total_steps=32_768, eval_every=16)


def snake_jumanji_ppo() -> ExperimentConfig:
    # Jumanji's Snake (12x12) is trained for 1e7+ steps by its own baselines. Demo: 200k steps, 8
    # levels of 50 % (at which dense PPO has not learnt yet: docs/suites.md).
    return _small_ppo("snake-jumanji-ppo", "jumanji:Snake-v1", levels=8, total_steps=200_000, eval_every=32)


ENTRIES = (
    Preset(
        "craftax-classic-ppo",
        "suites",
        craftax_classic_ppo,
        "PPO on Craftax-Classic, symbolic observation (not a paper task; Craftax's PPO baseline at demo size)",
        paper={
            "seeds": 5,
            "levels": 20,
            "ppo.total_steps": 1_000_000_000,
            "ppo.num_envs": 1024,
            "network.actor_hidden": (512, 512, 512),
            "network.critic_hidden": (512, 512, 512),
            "ppo.eval_every": 500,
            "imp.prune_fraction": 0.2,
        },
    ),
    Preset(
        "craftax-classic-pixels-ppo",
        "suites",
        craftax_classic_pixels_ppo,
        "PPO on Craftax-Classic, 63x63 RGB frames, Nature CNN (not a paper task)",
        paper={
            "seeds": 5,
            "levels": 20,
            "ppo.total_steps": 1_000_000_000,
            "ppo.num_envs": 1024,
            "network.actor_hidden": (512,),
            "network.critic_hidden": (512,),
            "ppo.eval_every": 500,
            "imp.prune_fraction": 0.2,
        },
    ),
    Preset(
        "empty-xminigrid-ppo",
        "suites",
        empty_xminigrid_ppo,
        "PPO on XLand-MiniGrid's MiniGrid-Empty-8x8 (not a paper task)",
        paper={"seeds": 10, "levels": 20, "ppo.total_steps": 1_000_000, "imp.prune_fraction": 0.2},
    ),
    Preset(
        "snake-jumanji-ppo",
        "suites",
        snake_jumanji_ppo,
        "PPO on Jumanji's Snake-v1, 12x12 (not a paper task)",
        paper={
            "seeds": 10,
            "levels": 20,
            "ppo.total_steps": 20_000_000,
            "ppo.eval_every": 500,
            "imp.prune_fraction": 0.2,
        },
    ),
)
