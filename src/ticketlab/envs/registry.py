"""Environments by id: `register_env(id, factory, ...)` for any gymnax-API environment (yours
too), MazeGrid, every gymnax id, every ALE game as `ALE/<Game>-v5` (stepped through ale-py's XLA
interface: envs/atari.py), and any Gymnasium id as `gymnasium:ID` (stepped on the host).

A module of yours that registers environments is named by `env.module` (or exposed under the
`ticketlab.envs` entry-point group) and imported before an id is looked up, so
`ticketlab run cartpole-ppo --env.module my_envs --env.name MyEnv-v0` runs your environment.
"""
from __future__ import annotations

import importlib
from importlib import metadata
from typing import Callable

import gymnax

from ticketlab.envs import atari, brax_tasks, bullet, gymnax_ids, host, mazegrid
from ticketlab.envs.host import HOST_PREFIX
from ticketlab.envs.base import EnvDef, EnvSpec, IMAGE_LAYOUTS, gymnax_spec
from ticketlab.envs.wrappers import TIME_LIMITS, BinaryObservation, with_sticky_actions, with_time_limit
from ticketlab.core.config import AtariConfig
from ticketlab.core.errors import ConfigError, check_choice
from ticketlab.core.registry import Registry

ENVS: Registry[EnvDef] = Registry("env.name")
_ALIASES: dict[str, str] = {}


def register_env_def(env_def: EnvDef, *, replace: bool = False) -> EnvDef:
    ENVS.register(env_def.id, env_def, replace=replace)
    for alias in env_def.aliases:
        _ALIASES[alias] = env_def.id
    return env_def


def register_env(env_id: str, factory: Callable, *, obs_names=None, return_floor: float = 0.0,
                 image_layout: str | None = None, channel_names: tuple[str, ...] = (),
                 sticky_actions: float = 0.0, aliases: tuple[str, ...] = (), replace: bool = False) -> EnvDef:
    """Register a gymnax-API environment: `factory() -> (env, env_params)`, where `env` has
    gymnax 1.0's `reset(key, params)` and six-value `step(key, state, action, params)`.
    `image_layout` ("CHW" or "HWC") marks image observations; `return_floor` is the worst possible
    episode return (the floor of normalized plots); `sticky_actions` the environment's own default
    probability of repeating the previous action (a config's env.sticky-actions overrides it)."""
    if image_layout is not None:
        check_choice("image_layout", image_layout, IMAGE_LAYOUTS)
    facts = dict(obs_names=obs_names, return_floor=return_floor, image_layout=image_layout,
                 channel_names=tuple(channel_names), sticky_actions=sticky_actions)

    def build(encoding: str) -> EnvSpec:
        _plain_encoding(env_id, encoding)
        env, params = factory()
        return gymnax_spec(env_id, env, params, **facts)

    return register_env_def(EnvDef(id=env_id, build=build, aliases=tuple(aliases)), replace=replace)


def _plain_encoding(env_id: str, encoding: str) -> None:
    if encoding != "object-map":
        raise ConfigError("env.encoding", f"encodings are MazeGrid's; {env_id} allows only object-map (the default)")


def _gymnax_factory(env_id: str, binary: bool) -> Callable:
    def factory():
        env, params = gymnax.make(env_id)
        return (BinaryObservation(env) if binary else env), params

    return factory


def _bullet_env_def(env_id: str) -> EnvDef:
    """A PyBullet walker: stepped on the host, its observations named (envs/bullet.py)."""
    def build(encoding: str) -> EnvSpec:
        _plain_encoding(env_id, encoding)
        bullet.require_bullet(env_id)
        try:
            return host.gymnasium_facts(bullet.host_id(env_id), spec_id=env_id, obs_names=bullet.obs_names(env_id),
                                        return_floor=bullet.RANDOM_RETURNS[env_id])
        except (KeyError, ValueError) as err:
            raise ConfigError("env.name", host.one_line(str(err).strip("'\""))) from None

    return EnvDef(id=env_id, build=build, aliases=(bullet.ALIASES[env_id],))


def _register_builtins() -> None:
    register_env_def(mazegrid.ENV_DEF)
    for env_id, facts in gymnax_ids.GYMNAX_FACTS.items():
        facts = dict(facts)
        aliases = facts.pop("aliases", ())
        binary = facts.pop("binary_obs", False)
        register_env(env_id, _gymnax_factory(env_id, binary), aliases=aliases, **facts)
    for env_id in bullet.JOINTS:
        register_env_def(_bullet_env_def(env_id))


_register_builtins()
for _task in brax_tasks.TASKS:
    _ALIASES[f"{_task}-brax"] = f"{brax_tasks.PREFIX}{_task}"


def import_env_modules(module: str) -> None:
    """Import the comma-separated modules of `env.module`, and every `ticketlab.envs` entry point."""
    for name in [m.strip() for m in module.split(",") if m.strip()]:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ConfigError("env.module", f"cannot import {name!r} ({err})") from None
    for entry in metadata.entry_points(group="ticketlab.envs"):
        entry.load()


def canonical_id(name: str) -> str:
    name = _ALIASES.get(name, name)
    if name.startswith(brax_tasks.PREFIX) and name.count(":") == 1:
        name = f"{name}:{brax_tasks.DEFAULT_BACKEND}"  # brax:<task> runs the default backend
    return name


def env_ids() -> tuple[str, ...]:
    extra = tuple(e for e in gymnax.registered_envs if e not in ENVS)
    return ENVS.names() + extra + (f"{brax_tasks.PREFIX}<{'|'.join(brax_tasks.TASKS)}>[:<backend>]",
                                   f"{atari.PREFIX}<Game>-v5 (ticketlab envs --atari)", f"{HOST_PREFIX}<Gymnasium id>")


def make_env(name: str, encoding: str = "object-map", module: str = "", sticky_actions: float = -1.0,
             time_limit: str = "truncate", atari_settings: AtariConfig | None = None) -> EnvSpec:
    """The environment `name` (an id, an alias, gymnasium:ID or ALE/<Game>-v5) in `encoding`,
    repeating its previous action with probability `sticky_actions` (-1: the environment's own
    default), its time limit a truncation or a termination (`time_limit`); ALE games stepped and
    preprocessed as `atari_settings` say (None: `AtariConfig()`)."""
    check_choice("env.time-limit", time_limit, TIME_LIMITS)
    if sticky_actions != -1.0 and not 0.0 <= sticky_actions <= 1.0:
        raise ConfigError("env.sticky-actions", f"must be in [0, 1] (or -1: the environment's default), got {sticky_actions}")
    if name.startswith(atari.PREFIX):
        if module:
            import_env_modules(module)
        if time_limit != "truncate":
            raise ConfigError("env.time-limit", f"{name} ends episodes after env.atari.max-frames; allowed: truncate")
        _plain_encoding(name, encoding)
        return atari.atari_spec(name, atari_settings or AtariConfig(), sticky_actions)
    spec = _base_spec(name, encoding, module)
    probability = spec.default_sticky_actions if sticky_actions == -1.0 else sticky_actions
    if probability and (spec.backend != "jax" or not spec.discrete):
        raise ConfigError("env.sticky-actions", f"sticky actions need discrete actions of a gymnax environment; "
                          f"{spec.id} allows only 0 (or -1, its default)")
    if time_limit != "truncate" and spec.backend != "jax":
        raise ConfigError("env.time-limit", f"{spec.id} steps on the host; allowed: truncate")
    return with_sticky_actions(with_time_limit(spec, time_limit), probability)


def action_kind(env_cfg) -> str:
    """discrete or continuous: the actions of the environment an `EnvConfig` names. Brax and
    PyBullet walkers are known to be continuous, ALE games discrete, without building them (and
    without their extras)."""
    name = canonical_id(env_cfg.name)
    if name.startswith(brax_tasks.PREFIX) or name in bullet.JOINTS:
        return "continuous"
    if name.startswith(atari.PREFIX):
        return "discrete"  # (ALE games are known to be discrete without the [atari] extra)
    return "discrete" if env_spec(env_cfg).discrete else "continuous"


def env_spec(env_cfg) -> EnvSpec:
    """The environment an `EnvConfig` names."""
    return make_env(env_cfg.name, env_cfg.encoding, env_cfg.module, env_cfg.sticky_actions, env_cfg.time_limit,
                    env_cfg.atari)


def _base_spec(name: str, encoding: str, module: str) -> EnvSpec:
    if module:
        import_env_modules(module)
    name = canonical_id(name)
    if name.startswith(HOST_PREFIX):
        _plain_encoding(name, encoding)
        return _host_spec(name)
    if name.startswith(brax_tasks.PREFIX):
        _plain_encoding(name, encoding)
        return _brax_spec(name)
    if name in ENVS:
        return ENVS.get(name).build(encoding)
    if name in gymnax.registered_envs:
        _plain_encoding(name, encoding)
        env, params = gymnax.make(name)
        return gymnax_spec(name, env, params)
    raise ConfigError("env.name", f"unknown {name!r}; allowed: {', '.join(env_ids())}")


_BRAX_ENVS: dict[str, brax_tasks.BraxEnv] = {}


def _brax_spec(name: str) -> EnvSpec:
    """A Brax task inside the compiled program (envs/brax_tasks.py); one instance per id and process."""
    task, backend = brax_tasks.parse(name)
    brax_tasks.require_brax(name)
    if name not in _BRAX_ENVS:
        _BRAX_ENVS[name] = brax_tasks.BraxEnv(task, backend)
    env = _BRAX_ENVS[name]
    return gymnax_spec(name, env, env.default_params, obs_names=brax_tasks.obs_names(env),
                       return_floor=brax_tasks.RANDOM_RETURNS[task])


def _host_spec(name: str) -> EnvSpec:
    """A Gymnasium environment stepped on the host (envs/host.py)."""
    try:
        return host.gymnasium_facts(name[len(HOST_PREFIX):])
    except (KeyError, ValueError) as err:
        raise ConfigError("env.name", str(err).strip("'\"")) from None
