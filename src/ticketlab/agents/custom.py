"""A training function of your own as an agent (algo `custom`): the engine's `Agent` built from
`init(key) -> params` and `train(key, params, mask) -> TrainResult`, found by their `module:name`
in the config (`CustomConfig`), so worker processes, Ray and SLURM tasks import them as they import
the built-in agents. Everything after training (conditions, store, resume, figures) is the engine's
one code path.

Functions that cannot be imported by name (defined in `__main__`, closures, lambdas) are held in
this process (`hold`) and train here only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef
from ticketlab.agents.output import TrainOutput
from ticketlab.core.errors import ConfigError
from ticketlab.envs.base import EnvSpec
from ticketlab.pruning.conditions import CONDITIONS, score_name
from ticketlab.pruning.scores import SCORES

NAME = "custom"


class TrainResult(struct.PyTreeNode):
    """What your `train` returns (jit- and vmap-able: arrays, not Python numbers)."""

    best_params: Any
    """The params of the best evaluation (masked: pruned weights exactly zero)."""
    best_return: Any
    """Its evaluation return: IMP's next mask comes from `best_params`."""
    curve: Any
    """Evaluation returns in order (one or more)."""
    final_params: Any = None
    """The params at the end of training (None: `best_params`)."""
    train_curve: Any = None
    """Any per-interval training statistic (None: `curve`)."""
    best_mask: Any = None
    """The mask of `best_params` when your training changed it (a sparse-training method through
    `ticketlab.sparse`); None: the mask it was given. Stored as the level's mask."""


_HELD: dict[str, Callable] = {}
"""Functions of this process that cannot be imported by name, by the reference they were given."""


def reference(fn: Callable) -> str:
    """`module:qualified.name` of a function; a function made by a factory (`make_train.<locals>.
    train`) that its module binds at top level goes by that name (`module:train`)."""
    module, name = getattr(fn, "__module__", "?"), getattr(fn, "__qualname__", repr(fn))
    if "<" in name and module != "__main__":
        try:
            bound = [k for k, v in vars(importlib.import_module(module)).items() if v is fn]
        except ImportError:
            bound = []
        name = bound[0] if bound else name
    return f"{module}:{name}"


def importable(fn: Callable) -> bool:
    """Whether another process finds `fn` by its reference (not __main__, a closure or a lambda)."""
    module, _, name = reference(fn).partition(":")
    if module == "__main__" or "<" in name:
        return False
    try:
        return _resolve(module, name) is fn
    except (ImportError, AttributeError):
        return False


def hold(fn: Callable) -> str:
    """Remember `fn` in this process under its reference; return the reference. Two different
    functions with one reference (two closures of one factory) would share a run directory, so
    the second is refused."""
    ref = reference(fn)
    if _HELD.get(ref, fn) is not fn:
        raise ConfigError(
            "train",
            f"another function is already held as {ref!r} (two closures of one factory?); "
            f"give each its own name (define it at module level, or set its __qualname__)",
        )
    _HELD[ref] = fn
    return ref


def _resolve(module: str, name: str):
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def load_function(field: str, ref: str) -> Callable:
    if ref in _HELD:
        return _HELD[ref]
    module, _, name = ref.partition(":")
    try:
        return _resolve(module, name)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError(
            field,
            f"cannot import {ref!r} ({type(e).__name__}: {e}); a function of this "
            f"process's __main__ trains in that process only",
        ) from None


def as_train_output(result: TrainResult, start) -> TrainOutput:
    """Your `TrainResult` as the engine's `TrainOutput`."""
    curve = jnp.atleast_1d(jnp.asarray(result.curve, jnp.float32))
    return TrainOutput(
        best_params=result.best_params,
        best_return=jnp.asarray(result.best_return, jnp.float32),
        final_params=result.best_params if result.final_params is None else result.final_params,
        final_return=curve[-1],
        eval_returns=curve,
        train_curve=curve
        if result.train_curve is None
        else jnp.atleast_1d(jnp.asarray(result.train_curve, jnp.float32)),
        rewind_params=start,
        data_digest=jnp.float32(0.0),
        best_mask=result.best_mask,
    )


def build(cfg, spec, expert=None) -> Agent:
    c = cfg.custom
    init, train = load_function("custom.init", c.init), load_function("custom.train", c.train)
    loss = load_function("custom.loss", c.loss) if c.loss else None

    def engine_train(envs, keys, start, mask):  # (your function steps its own environments, if any)
        return as_train_output(train(keys.train, start, mask), start)

    batch_loss = (lambda key, data_key, params, mask: loss(key, params, mask)) if loss else None
    return Agent(init=init, train=engine_train, env_steps=c.env_steps, rewind_update=0, batch_loss=batch_loss)


def spec(cfg) -> EnvSpec:
    """The facts your run declared: input names and the return floor (no environment is built)."""
    names = tuple(cfg.custom.obs_names)
    return EnvSpec(
        id=NAME,
        env=None,
        params=None,
        obs_shape=(len(names),),
        obs_names=names,
        return_floor=float(cfg.custom.return_floor),
        max_episode_steps=0,
    )


def prunable(params, cfg):
    """Leaves of two or more dimensions (weights, not biases) under the subtrees cfg.custom.prune."""
    modules = set(cfg.custom.prune)
    return jax.tree_util.tree_map_with_path(
        lambda path, x: _top(path) in modules and len(getattr(x, "shape", ())) >= 2, params
    )


def _top(path) -> str:
    first = path[0]
    return str(getattr(first, "key", getattr(first, "name", getattr(first, "idx", first))))


def validate(cfg, spec) -> None:
    c = cfg.custom
    for field, ref in (("custom.init", c.init), ("custom.train", c.train)):
        if not ref:
            raise ConfigError(field, "algo custom needs your function; run it through ticketlab.find_tickets")
        load_function(field, ref)
    if c.loss:
        load_function("custom.loss", c.loss)
    if not c.prune:
        raise ConfigError("custom.prune", "must name at least one subtree of the params to prune")
    needy = [n for n in cfg.imp.conditions if n in CONDITIONS and SCORES.get(score_name(n, cfg.imp.score)).needs_batch]
    if cfg.imp.score in SCORES and SCORES.get(cfg.imp.score).needs_batch and cfg.imp.score not in needy:
        needy.append(f"imp.score {cfg.imp.score}")
    if needy and not c.loss:
        raise ConfigError(
            "custom.loss",
            f"{', '.join(needy)} differentiate a loss on a batch; pass loss= "
            f"(loss(key, params, mask) -> scalar) to find_tickets",
        )


def acting(cfg, spec) -> Acting:
    raise ConfigError(
        "algo",
        "a custom training function has no ticketlab acting network (ticketlab play and "
        "expert re-evaluation need a built-in agent)",
    )


AGENT = AgentDef(
    name=NAME,
    section="custom",
    build=build,
    validate=validate,
    acting=acting,
    total_steps=lambda cfg: max(cfg.custom.env_steps, 1),
    train_curve_kind="custom",
    spec=spec,
    prunable=prunable,
    builds_network=False,
    trains_in_stages=False,
)
