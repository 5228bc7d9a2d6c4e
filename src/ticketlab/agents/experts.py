"""Expert files for behavioural cloning: load and save only (training and caching an expert is
`experiments.resolve_expert`, above the agents).

An expert file is safetensors: the acting module's params (`dense_0/kernel`, ...) and string
metadata: env, kind (categorical, gaussian or q: what its output is), hidden widths, torso,
activation, mean return, source, and for q experts the epsilon its data are collected with.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from safetensors import safe_open

from ticketlab.agents.heads import HEADS
from ticketlab.core.errors import ConfigError
from ticketlab.networks.network import make_network
from ticketlab.store import files


@dataclasses.dataclass(frozen=True)
class Expert:
    params: dict
    """Acting-module params: {"dense_0": {"kernel", "bias"}, ...}."""
    env: str
    kind: str
    hidden: tuple[int, ...]
    activation: str
    torso: str
    mean_return: float
    """Mean return of fresh evaluation episodes."""
    path: Path
    trained_now: bool = False
    """False when the expert came from the cache or a user's file."""
    epsilon: float = 0.0
    """q experts: the exploration epsilon of the policy that collects distillation data."""
    mean_activation: str = "none"
    """gaussian experts: the squashing of their mean (network.mean-activation)."""

    def head(self, spec):
        """The expert's head on environment `spec` (agents/heads.py: its outputs and how it acts)."""
        return HEADS.get(self.kind).for_spec(spec, data_epsilon=self.epsilon)

    def network(self, spec):
        """The expert's network for environment `spec` (its outputs: logits, (mean, log_std) or Q)."""
        head = self.head(spec)
        return make_network(
            hidden=self.hidden,
            out=head.num_outputs,
            obs_shape=spec.obs_shape,
            activation=self.activation,
            torso=self.torso,
            image_layout=spec.image_layout,
            is_policy=head.policy,
            gaussian=head.gaussian,
            mean_activation=self.mean_activation,
        )


def save_expert(
    path: Path,
    params: dict,
    *,
    env: str,
    kind: str,
    hidden,
    activation: str,
    torso: str,
    mean_return: float,
    source: str,
    epsilon: float = 0.0,
    mean_activation: str = "none",
) -> None:
    files.save_tree(
        path,
        params,
        metadata={
            "env": env,
            "kind": kind,
            "hidden": ",".join(map(str, hidden)),
            "activation": activation,
            "torso": torso,
            "mean_return": repr(float(mean_return)),
            "source": source,
            "epsilon": repr(float(epsilon)),
            "mean_activation": mean_activation,
        },
    )


def load_expert(path: Path, trained_now: bool = False) -> Expert:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("bc.expert", f"no expert file at {path}; give an RL preset or a .safetensors expert")
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
        flat = {k: f.get_tensor(k) for k in f.keys()}
    params = files.unflatten_tree(flat)
    if meta.get("kind", "categorical") not in HEADS:
        raise ConfigError("bc.expert", f"{path} has kind {meta['kind']!r}; allowed: {', '.join(HEADS)}")
    if "env" not in meta:
        raise ConfigError(
            "bc.expert", f"{path} has no 'env' metadata; save it with ticketlab.agents.experts.save_expert"
        )
    dense = sorted(k for k in params if k.startswith("dense_"))
    hidden = tuple(int(params[f"dense_{i}"]["kernel"].shape[1]) for i in range(len(dense) - 1))
    return Expert(
        params=params,
        env=meta["env"],
        kind=meta.get("kind", "categorical"),
        hidden=hidden,
        activation=meta.get("activation", "tanh"),
        torso=meta.get("torso", "mlp"),
        mean_return=float(meta.get("mean_return", "nan")),
        path=path,
        trained_now=trained_now,
        epsilon=float(meta.get("epsilon", "0")),
        mean_activation=meta.get("mean_activation", "none"),
    )
