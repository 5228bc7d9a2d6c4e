"""Validation of a whole config before anything is written: one line per error, exit status 2."""
from __future__ import annotations

from ticketlab.config import ExperimentConfig
from ticketlab.networks.init import SCHEMES
from ticketlab.networks.mlp import ACTIVATIONS
from ticketlab.pruning.conditions import CONDITIONS
from ticketlab.pruning.masks import SCOPES


class ConfigError(ValueError):
    """A bad config value: `field` names it (as on the command line), `message` the allowed values."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _choice(field: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(field, f"unknown {value!r}; allowed: {', '.join(allowed)}")


def _positive(field: str, value) -> None:
    if not value > 0:
        raise ConfigError(field, f"must be > 0, got {value}")


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Raise ConfigError on the first bad field; return the config unchanged when it is valid."""
    from ticketlab.envs.registry import make_env

    if cfg.seeds < 1:
        raise ConfigError("seeds", f"must be >= 1, got {cfg.seeds}")
    if cfg.levels < 1:
        raise ConfigError("levels", f"must be >= 1 (level 0 is the dense run), got {cfg.levels}")
    if cfg.max_batch < 0:
        raise ConfigError("max-batch", f"must be >= 0 (0: no limit), got {cfg.max_batch}")
    if not cfg.name or "/" in cfg.name:
        raise ConfigError("name", f"must be a non-empty name without '/', got {cfg.name!r}")
    _choice("algo", cfg.algo, ("ppo", "dqn", "bc"))
    spec = make_env(cfg.env.name, cfg.env.encoding)
    if spec.encoder is not None and cfg.algo != "dqn":
        raise ConfigError("env.encoding", f"{cfg.env.encoding} is applied by the DQN agent; algo "
                          f"{cfg.algo} takes object-map")
    _choice("init.scheme", cfg.init.scheme, SCHEMES)
    _positive("init.input-scale", cfg.init.input_scale)
    _choice("network.activation", cfg.network.activation, tuple(ACTIVATIONS))
    if not 0.0 <= cfg.network.dropout < 1.0:
        raise ConfigError("network.dropout", f"must be in [0, 1), got {cfg.network.dropout}")
    if cfg.network.dropout and cfg.algo != "dqn":
        raise ConfigError("network.dropout", f"dropout is implemented for algo dqn; {cfg.algo} allows only 0")
    if cfg.network.weight_decay < 0:
        raise ConfigError("network.weight-decay", f"must be >= 0, got {cfg.network.weight_decay}")
    for field in ("actor_hidden", "critic_hidden", "q_hidden"):
        widths = getattr(cfg.network, field)
        if any(w < 1 for w in widths):
            raise ConfigError(f"network.{field.replace('_', '-')}", f"widths must be >= 1, got {widths}")
    p = cfg.ppo
    for field in ("total_steps", "num_envs", "rollout_len", "epochs", "minibatches", "eval_every", "eval_episodes"):
        _positive(f"ppo.{field.replace('_', '-')}", getattr(p, field))
    if p.total_steps < p.num_envs * p.rollout_len:
        raise ConfigError("ppo.total-steps", f"must be >= num-envs * rollout-len = {p.num_envs * p.rollout_len}")
    if (p.num_envs * p.rollout_len) % p.minibatches:
        raise ConfigError("ppo.minibatches", f"must divide num-envs * rollout-len = {p.num_envs * p.rollout_len}")
    _positive("ppo.lr", p.lr)
    _choice("ppo.lr-schedule", p.lr_schedule, ("constant", "linear"))
    for field in ("gamma", "gae_lambda"):
        if not 0.0 <= getattr(p, field) <= 1.0:
            raise ConfigError(f"ppo.{field.replace('_', '-')}", f"must be in [0, 1], got {getattr(p, field)}")
    for field in ("clip_eps", "max_grad_norm"):
        _positive(f"ppo.{field.replace('_', '-')}", getattr(p, field))
    for field in ("value_coef", "entropy_coef"):
        if getattr(p, field) < 0:
            raise ConfigError(f"ppo.{field.replace('_', '-')}", f"must be >= 0, got {getattr(p, field)}")
    if not 0.0 < cfg.imp.prune_fraction < 1.0:
        raise ConfigError("imp.prune-fraction", f"must be in the open interval (0, 1), got {cfg.imp.prune_fraction}")
    _choice("imp.scope", cfg.imp.scope, tuple(SCOPES))
    if not cfg.imp.conditions:
        raise ConfigError("imp.conditions", f"must name at least one of: {', '.join(CONDITIONS)}")
    for c in cfg.imp.conditions:
        _choice("imp.conditions", c, CONDITIONS)
    if len(set(cfg.imp.conditions)) != len(cfg.imp.conditions):
        raise ConfigError("imp.conditions", f"each condition at most once, got {', '.join(cfg.imp.conditions)}")
    steps_field = "dqn.total-steps" if cfg.algo == "dqn" else "ppo.total-steps"
    total = cfg.dqn.total_steps if cfg.algo == "dqn" else p.total_steps
    if cfg.imp.rewind_steps < 0 or cfg.imp.rewind_steps >= total:
        raise ConfigError("imp.rewind-steps", f"must be in [0, {steps_field}), got {cfg.imp.rewind_steps}")
    if cfg.algo == "bc":
        _validate_bc(cfg)
    if cfg.algo == "dqn":
        _validate_dqn(cfg)
    return cfg


def _validate_dqn(cfg: ExperimentConfig) -> None:
    d = cfg.dqn
    for field in ("total_steps", "num_envs", "buffer_size", "batch_size", "replay_ratio", "target_update_every",
                  "eps_anneal_steps", "eval_every", "eval_episodes"):
        _positive(f"dqn.{field.replace('_', '-')}", getattr(d, field))
    for field in ("lr", "huber_delta", "max_grad_norm", "priority_eps"):
        _positive(f"dqn.{field.replace('_', '-')}", getattr(d, field))
    for field in ("gamma", "eps_start", "eps_final", "eps_eval", "priority_alpha", "priority_beta_start",
                  "priority_beta_final"):
        if not 0.0 <= getattr(d, field) <= 1.0:
            raise ConfigError(f"dqn.{field.replace('_', '-')}", f"must be in [0, 1], got {getattr(d, field)}")
    per_iteration = d.batch_size // d.replay_ratio
    if d.batch_size % d.replay_ratio or per_iteration % d.num_envs:
        raise ConfigError("dqn.num-envs", f"batch-size / replay-ratio = {d.batch_size / d.replay_ratio:g} env steps "
                          f"per update must be a whole multiple of num-envs ({d.num_envs})")
    if d.learning_starts < d.batch_size:
        raise ConfigError("dqn.learning-starts", f"must be >= batch-size ({d.batch_size}), got {d.learning_starts}")
    if d.buffer_size < d.batch_size:
        raise ConfigError("dqn.buffer-size", f"must be >= batch-size ({d.batch_size}), got {d.buffer_size}")
    if d.total_steps <= d.learning_starts:
        raise ConfigError("dqn.total-steps", f"must exceed learning-starts ({d.learning_starts}), got {d.total_steps}")
    if cfg.imp.scope != "actor":
        raise ConfigError("imp.scope", "DQN has one network (the Q-network); allowed: actor")


def _validate_bc(cfg: ExperimentConfig) -> None:
    from ticketlab.agents.distill_losses import DISCRETE_POLICY_LOSSES, LOSSES
    from ticketlab.agents.experts import EXPERT_THRESHOLDS

    b = cfg.bc
    if not b.expert.endswith(".safetensors"):
        _choice("bc.expert", b.expert, tuple(EXPERT_THRESHOLDS) + ("<path>.safetensors",))
    for field in ("expert_seeds", "total_steps", "num_envs", "epochs", "batch_size", "eval_every", "eval_episodes"):
        _positive(f"bc.{field.replace('_', '-')}", getattr(b, field))
    _positive("bc.lr", b.lr)
    _choice("bc.loss", b.loss, tuple(LOSSES))
    if b.loss not in DISCRETE_POLICY_LOSSES:
        raise ConfigError("bc.loss", f"{b.loss!r} needs a Gaussian or value student; discrete policies take: "
                          f"{', '.join(DISCRETE_POLICY_LOSSES)}")
    if b.total_steps // b.num_envs * b.num_envs < b.batch_size:
        raise ConfigError("bc.batch-size", f"must be <= the collected transitions ({b.total_steps}), got {b.batch_size}")
    if not cfg.student.hidden or any(w < 1 for w in cfg.student.hidden):
        raise ConfigError("student.hidden", f"widths must be >= 1, e.g. 128,128; got {cfg.student.hidden}")
    if cfg.imp.rewind_steps:
        raise ConfigError("imp.rewind-steps", "late rewinding is for RL runs; behavioural cloning allows only 0")
