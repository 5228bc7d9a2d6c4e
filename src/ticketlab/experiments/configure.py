"""A config from a preset name and flags, checked against its environment: the command line, sweeps
and paper figures build their configs here (parsing them is presets/arguments.py, which loads no
JAX)."""

from __future__ import annotations

import math

from ticketlab.core.config import ExperimentConfig, canonical_torso, replace_fields
from ticketlab.core.errors import ConfigError
from ticketlab.envs.registry import called_torso, canonical_id, env_spec, import_env_modules
from ticketlab.experiments.validate import validate
from ticketlab.presets.arguments import parsed_config


def canonical(cfg: ExperimentConfig) -> ExperimentConfig:
    """`cfg` with every alias spelt as the config stores it: the environment's canonical id
    (`acrobot` -> `Acrobot-v1`, `brax:hopper` -> `brax:hopper:spring`) and the torsos' names (`cnn` ->
    `minatar-cnn`), so one experiment has one run directory however it was named."""
    return replace_fields(
        cfg,
        {
            "env.name": canonical_id(cfg.env.name),
            "network.torso": canonical_torso(cfg.network.torso),
            "bc.expert_torso": canonical_torso(cfg.bc.expert_torso),
        },
    )


def parse_run_args(args: list[str]) -> ExperimentConfig:
    """PRESET [--scale S] [tyro flags] -> validated ExperimentConfig (`--help` among the flags: tyro
    prints every field's documentation and exits)."""
    return checked(*parsed_config(args))


def checked(cfg: ExperimentConfig, torso: str | None = None) -> ExperimentConfig:
    """A parsed config checked against its environment, aliases spelt canonically (`torso`: the one
    `--network.torso` named, None if none)."""
    if cfg.env.module:  # (its ids are registered on import)
        import_env_modules(cfg.env.module)
    cfg = validate(canonical(cfg))
    check_pixel_torso(cfg, torso)
    return cfg


def check_pixel_torso(cfg: ExperimentConfig, torso_flag: str | None) -> None:
    """Frames that call for a conv torso (an ALE game's) go into an MLP only when `--network.torso
    mlp` says so."""
    torso = called_torso(cfg.env)
    if torso and cfg.network.torso == "mlp" and torso_flag is None:
        shape = env_spec(cfg.env).obs_shape
        raise ConfigError(
            "network.torso",
            f"{cfg.env.name} observes {'x'.join(map(str, shape))} frames, which the mlp "
            f"torso would flatten into {math.prod(shape):,} inputs; allowed: {torso} (its presets' "
            f"network), or --network.torso mlp said explicitly",
        )
