"""Backends by name: how a training program steps an environment's copies (`Backend`, envs/base.py).

- gymnax: a pure gymnax-API environment stepped inside the program; a program trains one run and
  is vmapped over a block's runs (envs/gymnax_envs.py).
- host: Gymnasium environments stepped in Python through ordered host callbacks; a program trains a
  whole block (envs/host_envs.py).
- ale: ALE games through ale-py's FFI calls; a program trains a whole block (envs/atari_envs.py).

`program(fn, spec, num_envs, eval_episodes)` compiles a function written once against `Envs`,
`fn(envs, *per_run_args)` (an agent's training function `train(envs, keys, start, mask)`), into one
that takes every argument stacked over a block's runs, for its environment's backend; `Programs`
compiles several that step the same environments (a training's stages). A new backend is one
entry: `register_backend(Backend(...))`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax

from ticketlab.core.registry import Registry
from ticketlab.envs import atari_envs, gymnax_envs, host_envs
from ticketlab.envs.base import Backend, EnvSpec

BACKENDS: Registry[Backend] = Registry("backend")
"""How a training program steps an environment: gymnax (inside the program, vmapped over runs),
brax, ale (ale-py's XLA interface) and host (Gymnasium on the host, one program per block)."""


def register_backend(backend: Backend, *, replace: bool = False) -> Backend:
    """Add a way of stepping environments (`Backend`: whether it steps one run inside the program,
    how it makes a program's environments); environment ids then name it as their backend."""
    return BACKENDS.register(backend.name, backend, replace=replace)


register_backend(
    Backend(
        "gymnax",
        "pure gymnax-API environments stepped inside the compiled program",
        per_run=True,
        make_envs=gymnax_envs.GymnaxEnvs,
        configure=gymnax_envs.configure,
    )
)
register_backend(
    Backend(
        "host",
        "Gymnasium environments stepped in Python through host callbacks",
        per_run=False,
        make_envs=host_envs.HostEnvs,
        configure=host_envs.configure,
    )
)
register_backend(
    Backend(
        "ale",
        "ALE games through ale-py's XLA interface (FFI calls)",
        per_run=False,
        make_envs=atari_envs.AtariEnvs,
        configure=atari_envs.configure,
    )
)


def backend_of(spec: EnvSpec) -> Backend:
    return BACKENDS.get(spec.backend)


def program(
    fn: Callable[..., Any], spec: EnvSpec, num_envs: int, eval_episodes: int, shared: int = 0
) -> PerRunProgram | BlockProgram:
    """`fn(envs, *args)` compiled for `spec`'s backend, taking each of `args` stacked over a block's
    runs but the last `shared` (the same for every run): one program vmapped over runs, or one
    program per block size whose environments step the whole block (an agent's `train` becomes
    `train_batch(stacked RunKeys, starts, masks)`). `Programs` compiles several over the same
    environments."""
    return Programs(spec, num_envs, eval_episodes).compile(fn, shared)


class Programs:
    """Programs over the same environments of `spec` (`num_envs` copies per run, `eval_episodes`
    evaluation episodes): a backend whose environments are effects keeps one `Envs` per block size,
    which every program of that size steps (a training's stages hand their environments on), its
    handles (`Envs.inputs`, where it has any) passed as arguments."""

    def __init__(self, spec: EnvSpec, num_envs: int, eval_episodes: int):
        self.spec, self.backend = spec, backend_of(spec)
        self.num_envs, self.eval_episodes = num_envs, eval_episodes
        self.envs: dict[int | None, Any] = {}  # what the backend's make_envs gives

    def envs_of(self, runs: int | None) -> Any:
        """The environments of one run (None) or of a block of `runs` runs."""
        if runs not in self.envs:
            self.envs[runs] = self.backend.make_envs(self.spec, self.num_envs, self.eval_episodes, runs)
        return self.envs[runs]

    def compile(self, fn: Callable[..., Any], shared: int = 0, runs_arg: int = 0) -> PerRunProgram | BlockProgram:
        """`fn(envs, *args)` as `program(*args)`, each of `args` stacked over a block's runs but the
        last `shared`; a block program reads the block's size off `args[runs_arg]`."""
        if self.backend.per_run:
            return PerRunProgram(self, fn, shared)
        return BlockProgram(self, fn, shared, runs_arg)

    def close(self) -> None:
        for envs in self.envs.values():
            envs.close()


class PerRunProgram:
    """`fn` over one run's environments, vmapped over a block's runs and compiled once."""

    def __init__(self, programs: Programs, fn: Callable[..., Any], shared: int):
        self.programs, self.fn, self.shared = programs, fn, shared
        self.compiled: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            in_axes = (0,) * (len(args) - self.shared) + (None,) * self.shared
            self.compiled = jax.jit(jax.vmap(partial(self.fn, self.programs.envs_of(None)), in_axes=in_axes))
        return self.compiled(*args)

    def close(self) -> None:
        self.programs.close()


class BlockProgram:
    """`fn` over a whole block's environments, compiled once per block size."""

    def __init__(self, programs: Programs, fn: Callable[..., Any], shared: int, runs_arg: int):
        self.programs, self.fn, self.shared, self.runs_arg = programs, fn, shared, runs_arg
        self.compiled: dict[int, Callable[..., Any]] = {}

    def __call__(self, *args: Any) -> Any:
        runs = int(jax.tree_util.tree_leaves(args[self.runs_arg])[0].shape[0])
        envs = self.programs.envs_of(runs)
        if runs not in self.compiled:
            self.compiled[runs] = jax.jit(lambda inputs, *a: self.fn(envs.bound(inputs), *a))
        return self.compiled[runs](envs.inputs(), *args)

    def close(self) -> None:
        self.programs.close()
