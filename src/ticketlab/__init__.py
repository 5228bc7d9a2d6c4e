"""ticketlab: lottery tickets and minimal task representations in deep RL, in JAX.

The registries are the public way to extend it; each addition is one entry: `register_env` (a
gymnax-API environment), `register_family` (ids resolved by pattern), `register_backend` (how a
training program steps an environment), `register_agent`, `register_condition`, `register_score`
(a pruning score), `register_init` (an init scheme), `register_torso`, `register_preset`.
`run(cfg)` runs (or resumes) an experiment; `preset(name)` gives the paper's configs.
`find_tickets(init=, train=, ...)` runs IMP on a training function of your own (`TrainResult`,
`apply_mask`, `masked`), through the same engine; `plot(run)` and `report(run)` read any run.

The package's folders are its layers, bottom up (`LAYERS`): a module imports its own layer and the
ones below. Public names resolve on first use (PEP 562), so `import ticketlab.core.errors` loads
neither JAX nor matplotlib.
"""

from __future__ import annotations

import importlib

LAYERS = (
    "core",
    "store",
    "runtime",
    "presets",
    "envs",
    "networks",
    "pruning",
    "agents",
    "imp",
    "experiments",
    "launch",
    "reporting",
    "cli",
)
"""The package's folders, bottom up: what each may import (its own and those before it)."""

_PUBLIC = {
    "AGENTS": "ticketlab.agents.registry",
    "register_agent": "ticketlab.agents.registry",
    "TrainResult": "ticketlab.agents.custom",
    "BACKENDS": "ticketlab.envs.backends",
    "register_backend": "ticketlab.envs.backends",
    "ENVS": "ticketlab.envs.registry",
    "FAMILIES": "ticketlab.envs.registry",
    "make_env": "ticketlab.envs.registry",
    "register_env": "ticketlab.envs.registry",
    "register_family": "ticketlab.envs.registry",
    "ExperimentConfig": "ticketlab.core.config",
    "ConfigError": "ticketlab.core.errors",
    "INIT_SCHEMES": "ticketlab.networks.init",
    "register_init": "ticketlab.networks.init",
    "TORSOS": "ticketlab.networks.torsos",
    "register_torso": "ticketlab.networks.torsos",
    "PRESETS": "ticketlab.presets",
    "preset": "ticketlab.presets",
    "register_preset": "ticketlab.presets",
    "CONDITIONS": "ticketlab.pruning.conditions",
    "PAPER_CONDITIONS": "ticketlab.pruning.conditions",
    "Condition": "ticketlab.pruning.conditions",
    "register_condition": "ticketlab.pruning.conditions",
    "masked": "ticketlab.pruning.masked_optimizer",
    "sparse": "ticketlab.pruning.sparse_training",
    "SparseSchedule": "ticketlab.pruning.sparse_training",
    "apply_mask": "ticketlab.pruning.masks",
    "SCORES": "ticketlab.pruning.scores",
    "Score": "ticketlab.pruning.scores",
    "register_score": "ticketlab.pruning.scores",
    "run": "ticketlab.experiments.experiment",
    "find_tickets": "ticketlab.experiments.tickets",
    "plot": "ticketlab.reporting.plots",
    "report": "ticketlab.reporting.progress",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'ticketlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
