"""Environments by id: `register_env(id, factory, ...)` for any gymnax-API environment (yours too),
MazeGrid, the PyBullet walkers; and families of ids resolved by pattern (`register_family`): every
gymnax id, `brax:<task>[:<backend>]`, every ALE game as `ALE/<Game>-v5` (the `[atari]` extra) and
any Gymnasium id as `gymnasium:<id>` (stepped on the host). An entry's spec names its backend
(envs/backends.py), which applies the config's sticky actions and time limit.

An alias resolves to its canonical id (`canonical_id`), which is what a config stores. A module of
yours that registers environments is named by `env.module` (or exposed under the `ticketlab.envs`
entry-point group) and imported before an id is looked up, so `ticketlab run cartpole-ppo
--env.module my_envs --env.name MyEnv-v0` runs your environment.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable
from importlib import metadata
from typing import Any

import gymnax

from ticketlab.core.config import AtariConfig, EnvConfig
from ticketlab.core.errors import ConfigError, check_choice
from ticketlab.core.registry import Registry
from ticketlab.envs import (
    atari,
    brax_tasks,
    bullet,
    craftax_suite,
    gymnax_ids,
    host,
    jumanji_suite,
    mazegrid,
    xminigrid_suite,
)
from ticketlab.envs.adapters import adapt, check_env, step_arity
from ticketlab.envs.backends import BACKENDS
from ticketlab.envs.base import IMAGE_LAYOUTS, EnvDef, EnvSpec, Family, gymnax_spec
from ticketlab.envs.wrappers import TIME_LIMITS, BinaryObservation

ENVS: Registry[EnvDef] = Registry("env.name")
"""Every environment id `--env.name` can name (with its aliases): MazeGrid, the gymnax ids, the
PyBullet tasks and whatever `register_env` added."""
FAMILIES: Registry[Family] = Registry("env.family")
"""Families of ids resolved by pattern rather than listed: any gymnax id, `brax:<task>`,
`ALE/<Game>-v5`, `gymnasium:<id>`."""
_ALIASES: dict[str, str] = {}


def register_env_def(env_def: EnvDef, *, replace: bool = False) -> EnvDef:
    ENVS.register(env_def.id, env_def, replace=replace)
    for alias in env_def.aliases:
        _ALIASES[alias] = env_def.id
    return env_def


def register_family(family: Family, *, replace: bool = False) -> Family:
    """Add a family of environment ids resolved by pattern (`Family`: its pattern, backend and how
    an id of it becomes an environment)."""
    return FAMILIES.register(family.name, family, replace=replace)


def register_env(
    env_id: str,
    factory: Callable[[], tuple[Any, Any]],
    *,
    obs_names: tuple[str, ...] | None = None,
    return_floor: float | None = None,
    max_episode_steps: int | None = None,
    image_layout: str | None = None,
    channel_names: tuple[str, ...] = (),
    sticky_actions: float = 0.0,
    aliases: tuple[str, ...] = (),
    replace: bool = False,
) -> EnvDef:
    """Register a pure-JAX environment: `factory() -> (env, env_params)`, where `env` has gymnax's
    `reset(key, params)`, `observation_space(params)`, `action_space(params)` and either gymnax 1.0's
    six-value `step(key, state, action, params)` or the five-value one of gymnax before 1.0 and the
    suites in its image, `(obs, state, reward, done, info)` (adapted by envs/adapters.py: the
    environment's `step_env`/`reset_env` where it has them, else a `step` that does not reset by
    itself). `max_episode_steps` is the episode limit where the params carry no
    `max_steps_in_episode` (Craftax: `max_timesteps`). The environment is checked at its first use
    (its reset and one step under `jax.eval_shape`): what is missing is one line naming the argument
    that fixes it. `image_layout` ("CHW" or "HWC") marks image observations; `return_floor` is the
    worst possible episode return (the floor of normalized plots; None: not known, 0 assumed and said
    so); `sticky_actions` the environment's own default probability of repeating the previous action
    (a config's env.sticky-actions overrides it)."""
    if image_layout is not None:
        check_choice("image_layout", image_layout, IMAGE_LAYOUTS)
    checked: dict[str, int] = {}

    def build(env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        if not checked:  # once, at first use
            env, params, limit = check_env(env_id, factory(), max_episode_steps)
            checked.update(limit=limit, arity=step_arity(env))
        else:
            made, params = factory()
            env = adapt(made, checked["arity"], checked["limit"])
        return gymnax_spec(
            env_id,
            env,
            params,
            obs_names=obs_names,
            return_floor=return_floor,
            max_episode_steps=checked["limit"],
            image_layout=image_layout,
            channel_names=tuple(channel_names),
            sticky_actions=sticky_actions,
        )

    return register_env_def(EnvDef(id=env_id, build=build, aliases=tuple(aliases)), replace=replace)


def plain_encoding(env_id: str, encoding: str) -> None:
    if encoding != "object-map":
        raise ConfigError("env.encoding", f"encodings are MazeGrid's; {env_id} allows only object-map (the default)")


def _gymnax_factory(env_id: str, binary: bool) -> Callable[[], tuple[Any, Any]]:
    def factory() -> tuple[Any, Any]:
        env, params = gymnax.make(env_id)
        return (BinaryObservation(env) if binary else env), params

    return factory


def _bullet_env_def(env_id: str) -> EnvDef:
    """A PyBullet walker: stepped on the host, its observations named (envs/bullet.py)."""

    def build(env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        bullet.require_bullet(env_id)
        try:
            return host.gymnasium_facts(
                bullet.host_id(env_id),
                spec_id=env_id,
                obs_names=bullet.obs_names(env_id),
                return_floor=bullet.RANDOM_RETURNS[env_id],
            )
        except (KeyError, ValueError) as err:
            raise ConfigError("env.name", host.one_line(str(err).strip("'\""))) from None

    return EnvDef(id=env_id, build=build, aliases=(bullet.ALIASES[env_id],), discrete=False, backend="host")


def _gymnax_family() -> Family:
    """Every id gymnax registers (the ones without facts of ours get default names, and floor 0
    assumed, said so in their reports)."""

    def build(env_id: str, env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        env, params = gymnax.make(env_id)
        return gymnax_spec(env_id, env, params)

    return Family(
        "gymnax",
        "any gymnax id",
        matches=lambda env_id: env_id in gymnax.registered_envs,
        build=build,
        ids=lambda: tuple(dict.fromkeys(e for e in gymnax.registered_envs if e not in ENVS)),
    )


_BRAX_ENVS: dict[str, brax_tasks.BraxEnv] = {}


def _brax_family() -> Family:
    """A Brax task inside the compiled program (envs/brax_tasks.py); one instance per id and process."""

    def build(env_id: str, env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        task, backend = brax_tasks.parse(env_id)
        brax_tasks.require_brax(env_id)
        if env_id not in _BRAX_ENVS:
            _BRAX_ENVS[env_id] = brax_tasks.BraxEnv(task, backend)
        env = _BRAX_ENVS[env_id]
        return gymnax_spec(
            env_id,
            env,
            env.default_params,
            obs_names=brax_tasks.obs_names(env),
            return_floor=brax_tasks.RANDOM_RETURNS[task],
        )

    return Family(
        "brax",
        f"{brax_tasks.PREFIX}<{'|'.join(brax_tasks.TASKS)}>[:<backend>]",
        matches=lambda env_id: env_id.startswith(brax_tasks.PREFIX),
        build=build,
        canonical=brax_tasks.canonical,
        discrete=lambda env_id: False,
    )


def _ale_family() -> Family:
    """ALE games through ale-py's XLA interface, preprocessed as env.atari says (envs/atari.py)."""

    def build(env_id: str, env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        return atari.atari_spec(env_id, env_cfg.atari, env_cfg.sticky_actions)

    return Family(
        "ale",
        f"{atari.PREFIX}<Game>-v5 (ticketlab envs --atari)",
        build=build,
        backend="ale",
        matches=lambda env_id: env_id.startswith(atari.PREFIX),
        discrete=lambda env_id: True,
        torso=lambda env_id: "nature-cnn",
    )


def _gymnasium_family() -> Family:
    """Any Gymnasium id, stepped on the host (envs/host.py)."""

    def build(env_id: str, env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        try:
            return host.gymnasium_facts(host.gymnasium_id(env_id))
        except (KeyError, ValueError) as err:
            raise ConfigError("env.name", str(err).strip("'\"")) from None

    return Family(
        "gymnasium",
        f"{host.HOST_PREFIX}<Gymnasium id>",
        build=build,
        backend="host",
        matches=lambda env_id: env_id.startswith(host.HOST_PREFIX),
    )


def _suite_family(name: str, module: Any, spec: Callable[[str], EnvSpec], torso: str = "") -> Family:
    """A pure-JAX suite by id (`<name>:<its id>`, envs/<name>_suite.py), stepped inside the program."""

    def build(env_id: str, env_cfg: EnvConfig) -> EnvSpec:
        plain_encoding(env_id, env_cfg.encoding)
        return spec(env_id)

    return Family(
        name,
        f"{module.PREFIX}<{name} id> (the {name} extra)",
        matches=lambda env_id: env_id.startswith(module.PREFIX),
        build=build,
        discrete=lambda env_id: True,
        torso=lambda env_id: torso if craftax_suite.is_pixels(env_id) else "",
        ids=lambda: tuple(module.PREFIX + i for i in module.IDS),
    )


def _register_builtins() -> None:
    register_env_def(mazegrid.ENV_DEF)
    for env_id, facts in gymnax_ids.GYMNAX_FACTS.items():
        facts = dict(facts)
        aliases = facts.pop("aliases", ())
        binary = facts.pop("binary_obs", False)
        register_env(env_id, _gymnax_factory(env_id, binary), aliases=aliases, **facts)
    for env_id in bullet.JOINTS:
        register_env_def(_bullet_env_def(env_id))
    suites = (
        _suite_family("craftax", craftax_suite, craftax_suite.craftax_spec, torso="nature-cnn"),
        _suite_family("xminigrid", xminigrid_suite, xminigrid_suite.xminigrid_spec),
        _suite_family("jumanji", jumanji_suite, jumanji_suite.jumanji_spec),
    )
    for family in (_gymnax_family(), _brax_family(), _ale_family(), _gymnasium_family(), *suites):
        register_family(family)
    for task in brax_tasks.TASKS:
        _ALIASES[f"{task}-brax"] = f"{brax_tasks.PREFIX}{task}"


_register_builtins()


def import_env_modules(module: str) -> None:
    """Import the comma-separated modules of `env.module`, and every `ticketlab.envs` entry point."""
    for name in [m.strip() for m in module.split(",") if m.strip()]:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ConfigError("env.module", f"cannot import {name!r} ({err})") from None
    for entry in metadata.entry_points(group="ticketlab.envs"):
        entry.load()


def family_of(env_id: str) -> Family | None:
    """The family whose pattern an id (not a registered one) matches, or None."""
    return next((f for _, f in FAMILIES.items() if f.matches(env_id)), None)


def canonical_id(name: str) -> str:
    """The id a config stores for `name`: an alias resolved, a family's short form completed."""
    name = _ALIASES.get(name, name)
    family = None if name in ENVS else family_of(name)
    return family.canonical(name) if family else name


def env_ids() -> tuple[str, ...]:
    """What `ticketlab envs` lists: the registered ids, then each family's ids or its pattern."""
    return ENVS.names() + tuple(i for _, f in FAMILIES.items() for i in (f.ids() or (f.pattern,)))


def env_spec(env_cfg: EnvConfig) -> EnvSpec:
    """The environment an `EnvConfig` names, with its backend's sticky actions and time limit."""
    check_choice("env.time-limit", env_cfg.time_limit, TIME_LIMITS)
    if env_cfg.sticky_actions != -1.0 and not 0.0 <= env_cfg.sticky_actions <= 1.0:
        raise ConfigError(
            "env.sticky-actions", f"must be in [0, 1] (or -1: the environment's default), got {env_cfg.sticky_actions}"
        )
    if env_cfg.module:
        import_env_modules(env_cfg.module)
    name = canonical_id(env_cfg.name)
    if name in ENVS:
        spec = ENVS.get(name).build(env_cfg)
    elif (family := family_of(name)) is not None:
        spec = family.build(name, env_cfg)
    else:
        raise ConfigError("env.name", f"unknown {name!r}; allowed: {', '.join(env_ids())}")
    spec = BACKENDS.get(spec.backend).configure(spec, env_cfg)
    if env_cfg.return_floor is not None:
        if not math.isfinite(env_cfg.return_floor):
            raise ConfigError("env.return-floor", f"must be a finite number, got {env_cfg.return_floor}")
        spec = dataclasses.replace(spec, return_floor=float(env_cfg.return_floor), floor_known=True)
    return spec


def floor_warning(spec: EnvSpec) -> str | None:
    """One line for a run whose environment's worst return nobody gave, or None."""
    if spec.floor_known:
        return None
    return (
        f"env.return-floor: the worst return of {spec.id} is not known; figures and tables normalize "
        "from an assumed 0 (set --env.return-floor)"
    )


def make_env(
    name: str,
    encoding: str = "object-map",
    module: str = "",
    sticky_actions: float = -1.0,
    time_limit: str = "truncate",
    atari_settings: AtariConfig | None = None,
) -> EnvSpec:
    """The environment `name` (an id, an alias, gymnasium:ID or ALE/<Game>-v5) in `encoding`,
    repeating its previous action with probability `sticky_actions` (-1: the environment's own
    default), its time limit a truncation or a termination (`time_limit`); ALE games stepped and
    preprocessed as `atari_settings` say (None: `AtariConfig()`)."""
    return env_spec(
        EnvConfig(
            name=name,
            encoding=encoding,
            module=module,
            sticky_actions=sticky_actions,
            time_limit=time_limit,
            atari=atari_settings or AtariConfig(),
        )
    )


def is_discrete(env_cfg: EnvConfig) -> bool:
    """Whether the actions of the environment an `EnvConfig` names are discrete; known without
    building it (and without its extra) for the PyBullet walkers, Brax tasks and ALE games."""
    name = canonical_id(env_cfg.name)
    if name in ENVS:
        known = ENVS.get(name).discrete
    else:
        family = family_of(name)
        known = family.discrete(name) if family else None
    return env_spec(env_cfg).discrete if known is None else known


def called_torso(env_cfg: EnvConfig) -> str:
    """The conv torso the observations of the environment an `EnvConfig` names call for ("": none)."""
    family = None if canonical_id(env_cfg.name) in ENVS else family_of(canonical_id(env_cfg.name))
    return family.torso(canonical_id(env_cfg.name)) if family else ""


def backend_name(env_cfg: EnvConfig) -> str:
    """The backend of the environment an `EnvConfig` names, without building it."""
    name = canonical_id(env_cfg.name)
    if name in ENVS:
        return ENVS.get(name).backend
    family = family_of(name)
    return family.backend if family else env_spec(env_cfg).backend
