"""Validation of a whole config before anything is written: one line per error, exit status 2.

Each registry entry checks what is its own (an agent its config section, an environment its id
and encoding); this module only asks them and checks what spans sections.
"""

from __future__ import annotations

import functools

from ticketlab.agents.distill_losses import LOSSES
from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.core.config import ExperimentConfig, check_bounds
from ticketlab.core.errors import ConfigError, check_choice, check_positive
from ticketlab.envs.backends import BACKENDS
from ticketlab.envs.registry import backend_name, canonical_id, is_discrete
from ticketlab.networks.init import INIT_SCHEMES
from ticketlab.networks.network import ACTIVATIONS, MEAN_ACTIVATIONS
from ticketlab.networks.torsos import TORSOS, image_hwc, smallest_image
from ticketlab.presets import PRESETS, SCALES, preset
from ticketlab.pruning.allocation import ALLOCATIONS
from ticketlab.pruning.conditions import CONDITIONS, DENSE, PERMUTE_VALUES, SPARSE_METHODS, previous_run, score_name
from ticketlab.pruning.magnitude import PRUNE_COUNTS
from ticketlab.pruning.masks import SCOPES
from ticketlab.pruning.scores import SCORES
from ticketlab.pruning.sparse_training import DROP_SCHEDULES


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Raise ConfigError on the first bad field; return the config unchanged when it is valid."""
    check_bounds(cfg)
    agent = AGENTS.get(cfg.algo)
    spec = run_spec(cfg)
    if spec.encoder is not None and not agent.applies_encoders:
        encoders = "/".join(n.upper() for n, a in AGENTS.items() if a.applies_encoders)
        raise ConfigError(
            "env.encoding", f"{cfg.env.encoding} is applied by the {encoders} agents; algo {cfg.algo} takes object-map"
        )
    if agent.trainer(spec.backend) is None:
        raise ConfigError(
            "algo",
            f"{spec.id} steps on the {spec.backend} backend, which algo {cfg.algo} does not "
            f"support; allowed: {', '.join(n for n, a in AGENTS.items() if a.trainer(spec.backend))}",
        )
    if agent.spec is None:  # (an agent that declares its own facts steps no environment)
        _validate_preset_actions(cfg, spec)
    if agent.builds_network:
        _validate_network(cfg, spec, agent)
    agent.validate(cfg, spec)
    _validate_imp(cfg, agent, spec)
    if agent.needs_expert:
        _validate_expert(cfg, spec)
    check_choice("eval.policy", cfg.eval.policy, agent.eval_policies)
    total = agent.total_steps(cfg)
    if cfg.imp.rewind_steps < 0 or cfg.imp.rewind_steps >= total:
        raise ConfigError(
            "imp.rewind-steps", f"must be in [0, {agent.section}.total-steps), got {cfg.imp.rewind_steps}"
        )
    return cfg


def _action_kind(discrete: bool) -> str:
    return "discrete" if discrete else "continuous"


def _validate_preset_actions(cfg: ExperimentConfig, spec) -> None:
    """A preset tuned for one kind of action (its environment's) refuses an environment of the
    other kind: its settings (a Gaussian head's tanh mean, a categorical expert) would not fit."""
    if cfg.name not in PRESETS:
        return
    home = preset(cfg.name).env
    if canonical_id(home.name) == spec.id:
        return
    if _preset_discrete(cfg.name) != spec.discrete:
        kind, other = _action_kind(_preset_discrete(cfg.name)), _action_kind(spec.discrete)
        fitting = [name for name in _env_presets() if _preset_discrete(name) == spec.discrete]
        raise ConfigError(
            "env.name",
            f"{cfg.name} is a {kind}-action preset and {spec.id} has {other} "
            f"actions; allowed: {kind}-action environments, a {other}-action preset "
            f"({', '.join(fitting)}), or --name <run name> to keep this preset's settings",
        )


def _env_presets() -> tuple[str, ...]:
    """The presets whose agent steps an environment (not a dataset or a training function of yours)."""
    return tuple(n for n in PRESETS if AGENTS.get(preset(n).algo).spec is None)


@functools.cache
def _preset_discrete(name: str) -> bool:
    """Whether the actions of the preset's own environment are discrete."""
    return is_discrete(preset(name).env)


def _validate_conv_sizes(torso: str, spec) -> None:
    """Every conv layer of the torso must see at least one kernel's worth of image."""
    h, w, _ = image_hwc(spec.obs_shape, spec.image_layout)
    smallest = smallest_image(torso)
    if min(h, w) < smallest:
        hint = f" ({spec.image_size_option})" if spec.image_size_option else ""
        raise ConfigError(
            "network.torso", f"{torso} needs images of at least {smallest}x{smallest}; {spec.id} has {h}x{w}{hint}"
        )


def _validate_network(cfg: ExperimentConfig, spec, agent) -> None:
    check_choice("init.scheme", cfg.init.scheme, INIT_SCHEMES.names())
    check_positive("init.input-scale", cfg.init.input_scale)
    check_choice("init.input-scale-modules", cfg.init.input_scale_modules, ("all", "pruned"))
    check_choice("network.activation", cfg.network.activation, ACTIVATIONS.names())
    check_choice("network.mean-activation", cfg.network.mean_activation, MEAN_ACTIVATIONS)
    if cfg.network.mean_activation != "none":
        bounds = set(spec.action_low) | set(spec.action_high)
        if spec.discrete or bounds != {-1.0, 1.0}:
            what = (
                "discrete actions"
                if spec.discrete
                else f"actions in [{min(spec.action_low):g}, {max(spec.action_high):g}]"
            )
            raise ConfigError(
                "network.mean-activation",
                f"tanh squashes a Gaussian mean into [-1, 1]; {spec.id} has {what}; allowed: none",
            )
    check_choice("network.torso", cfg.network.torso, TORSOS.names())
    if TORSOS.get(cfg.network.torso) and spec.image_layout is None:
        raise ConfigError(
            "network.torso",
            f"{cfg.network.torso} needs image observations; {spec.id} has shape {spec.obs_shape}; allowed: mlp",
        )
    if TORSOS.get(cfg.network.torso):
        _validate_conv_sizes(cfg.network.torso, spec)
    if not 0.0 <= cfg.network.dropout < 1.0:
        raise ConfigError("network.dropout", f"must be in [0, 1), got {cfg.network.dropout}")
    if cfg.network.dropout and not agent.supports_dropout:
        allowed = ", ".join(n for n, a in AGENTS.items() if a.supports_dropout)
        raise ConfigError("network.dropout", f"dropout is implemented for algo {allowed}; {cfg.algo} allows only 0")
    if cfg.network.weight_decay < 0:
        raise ConfigError("network.weight-decay", f"must be >= 0, got {cfg.network.weight_decay}")
    for field in ("actor_hidden", "critic_hidden", "q_hidden"):
        widths = getattr(cfg.network, field)
        if any(w < 1 for w in widths):
            raise ConfigError(f"network.{field.replace('_', '-')}", f"widths must be >= 1, got {widths}")


def _validate_expert(cfg: ExperimentConfig, spec) -> None:
    """A preset teacher must play this run's environment and be of the kind its loss distils,
    checked from the configs alone, before any expert trains."""
    expert = cfg.bc.expert
    check_choice("bc.expert-scale", cfg.bc.expert_scale, SCALES)
    if cfg.bc.expert_torso:
        check_choice("bc.expert-torso", cfg.bc.expert_torso, TORSOS.names())
    if any(w < 1 for w in cfg.bc.expert_hidden):
        raise ConfigError("bc.expert-hidden", f"widths must be >= 1, got {cfg.bc.expert_hidden}")
    if expert.endswith(".safetensors"):
        if cfg.bc.expert_hidden:
            raise ConfigError("bc.expert-hidden", "sets a preset teacher's widths; an expert file has its own")
        return
    student = AGENTS.get(cfg.algo)
    teachers = tuple(
        n
        for n in _env_presets()
        if AGENTS.get(preset(n).algo).teaches
        and not AGENTS.get(preset(n).algo).needs_expert
        and student.trainer(backend_name(preset(n).env))
    )
    check_choice("bc.expert", expert, teachers + ("<path>.safetensors",))
    teacher = preset(expert, cfg.bc.expert_scale, cfg.bc.expert_torso or None)
    plays = canonical_id(teacher.env.name)
    if plays != spec.id:
        same = [n for n in teachers if canonical_id(preset(n).env.name) == spec.id]
        raise ConfigError(
            "bc.expert",
            f"{expert} plays {plays}, this run {spec.id}; allowed: "
            f"{', '.join(same) or 'an expert .safetensors of ' + spec.id}",
        )
    head = type(AGENTS.get(teacher.algo).acting(teacher, spec).head)
    wanted = LOSSES.get(cfg.bc.loss).head
    if head is not wanted:
        raise ConfigError(
            "bc.expert",
            f"bc.loss {cfg.bc.loss} distils a {wanted.name} teacher; {expert} is a {head.name} "
            f"expert (a {teacher.algo} agent); allowed: "
            f"{', '.join(n for n, e in LOSSES.items() if e.head is head)} as bc.loss",
        )
    if cfg.bc.expert_hidden and not AGENTS.get(teacher.algo).width_fields:
        raise ConfigError("bc.expert-hidden", f"{expert} is a {teacher.algo} preset, whose width is fixed")


def _validate_sparse(cfg: ExperimentConfig, agent, spec, methods: list[str]) -> None:
    """The sparse-training conditions: their schedule, and an agent that trains in stages on one
    run's environments (rigl: with its own loss on a batch, for the dense gradient)."""
    s = cfg.sparse
    check_choice("sparse.allocation", s.allocation, ALLOCATIONS)
    check_choice("sparse.drop-schedule", s.drop_schedule, DROP_SCHEDULES)
    if not 0.0 <= s.start < s.end <= 1.0:
        raise ConfigError("sparse.start/end", f"need 0 <= start < end <= 1, got start {s.start}, end {s.end}")
    if not 0.0 < s.update_every <= 1.0:
        raise ConfigError("sparse.update-every", f"must be in (0, 1], got {s.update_every}")
    if not 0.0 < s.drop_fraction < 1.0:
        raise ConfigError("sparse.drop-fraction", f"must be in the open interval (0, 1), got {s.drop_fraction}")
    others = ", ".join(c for c in CONDITIONS.names() if c not in SPARSE_METHODS)
    if not BACKENDS.get(spec.backend).per_run or not agent.trains_in_stages:
        raise ConfigError(
            "imp.conditions",
            f"{', '.join(methods)} change the mask between the steps of a training on one run's "
            f"environments, which algo {cfg.algo} on the {spec.backend} backend does not offer; allowed: {others}",
        )


def _validate_imp(cfg: ExperimentConfig, agent, spec) -> None:
    imp = cfg.imp
    check_choice("imp.prune-count", imp.prune_count, PRUNE_COUNTS.names())
    check_choice("imp.scope", imp.scope, tuple(s for s in SCOPES if s in agent.scopes))
    if not imp.conditions:
        raise ConfigError("imp.conditions", f"must name at least one of: {', '.join(CONDITIONS)}")
    for c in imp.conditions:
        check_choice("imp.conditions", c, CONDITIONS.names())
    if len(set(imp.conditions)) != len(imp.conditions):
        raise ConfigError("imp.conditions", f"each condition at most once, got {', '.join(imp.conditions)}")
    for c in imp.conditions:  # a condition whose source derives from another chain needs that chain
        for level in range(1, cfg.levels):
            prev_level, prev = previous_run(c, level)
            if prev != DENSE and prev not in imp.conditions or prev_level >= level:
                raise ConfigError(
                    "imp.conditions",
                    f"{c} derives level {level} from {prev} level {prev_level}; "
                    f"allowed: conditions whose earlier runs this config trains (add {prev})",
                )
    check_choice("imp.score", imp.score, SCORES.names())
    check_choice("imp.permute-values", imp.permute_values, PERMUTE_VALUES)
    check_choice("imp.allocation", imp.allocation, ALLOCATIONS)
    methods = [c for c in imp.conditions if c in SPARSE_METHODS]
    if methods:
        _validate_sparse(cfg, agent, spec, methods)
    if not BACKENDS.get(spec.backend).per_run:  # (a batch loss is vmapped over a block's runs)
        if SCORES.get(imp.score).needs_batch:
            raise ConfigError(
                "imp.score",
                f"{imp.score} needs the agent's loss on a batch, which environments on the "
                f"{spec.backend} backend do not offer; allowed: magnitude",
            )
        needy = [c for c in imp.conditions if SCORES.get(score_name(c, imp.score)).needs_batch]
        if needy:
            raise ConfigError(
                "imp.conditions",
                f"{', '.join(needy)} need the agent's loss on a batch, which "
                f"environments on the {spec.backend} backend do not offer; allowed: "
                f"{', '.join(c for c in CONDITIONS.names() if c not in needy)}",
            )
