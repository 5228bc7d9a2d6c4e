"""Backends by name: how a training program steps an environment's copies (`Backend`, envs/base.py).

- gymnax: a pure gymnax-API environment stepped inside the program; a program trains one run and
  is vmapped over a block's runs (envs/gymnax_envs.py).
- host: Gymnasium environments stepped in Python through ordered host callbacks; a program trains a
  whole block (envs/host_envs.py).
- ale: ALE games through ale-py's FFI calls; a program trains a whole block (envs/atari_envs.py).

`program(fn, spec, num_envs, eval_episodes)` compiles a function written once against `Envs`,
`fn(envs, *per_run_args)` (an agent's training function `train(envs, keys, start, mask)`), into one
that takes every argument stacked over a block's runs, for its environment's backend. A new backend
is one entry: `register_backend(Backend(...))`.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import jax

from ticketlab.core.registry import Registry
from ticketlab.envs import atari_envs, gymnax_envs, host_envs
from ticketlab.envs.base import Backend, EnvSpec

BACKENDS: Registry[Backend] = Registry("backend")


def register_backend(backend: Backend, *, replace: bool = False) -> Backend:
    return BACKENDS.register(backend.name, backend, replace=replace)


register_backend(Backend("gymnax", "pure gymnax-API environments stepped inside the compiled program", per_run=True,
                         make_envs=gymnax_envs.GymnaxEnvs, configure=gymnax_envs.configure))
register_backend(Backend("host", "Gymnasium environments stepped in Python through host callbacks", per_run=False,
                         make_envs=host_envs.HostEnvs, configure=host_envs.configure))
register_backend(Backend("ale", "ALE games through ale-py's XLA interface (FFI calls)", per_run=False,
                         make_envs=atari_envs.AtariEnvs, configure=atari_envs.configure))


def backend_of(spec: EnvSpec) -> Backend:
    return BACKENDS.get(spec.backend)


def program(fn: Callable, spec: EnvSpec, num_envs: int, eval_episodes: int) -> Callable:
    """`fn(envs, *args)` compiled for `spec`'s backend, taking each of `args` stacked over a block's
    runs: one program vmapped over runs, or one program per block size whose environments step the
    whole block (an agent's `train` becomes `train_batch(stacked RunKeys, starts, masks)`)."""
    backend = backend_of(spec)
    if backend.per_run:
        return jax.jit(jax.vmap(partial(fn, backend.make_envs(spec, num_envs, eval_episodes, None))))
    return BlockProgram(backend, fn, spec, num_envs, eval_episodes)


class BlockProgram:
    """The program of a backend whose environments are effects: compiled once per block size, its
    environments' handles (`Envs.inputs`, where they have any) passed as arguments."""

    def __init__(self, backend: Backend, fn: Callable, spec: EnvSpec, num_envs: int, eval_episodes: int):
        self.backend, self.fn, self.spec = backend, fn, spec
        self.num_envs, self.eval_episodes = num_envs, eval_episodes
        self.compiled: dict[int, tuple] = {}

    def __call__(self, *args):
        runs = int(jax.tree_util.tree_leaves(args)[0].shape[0])
        if runs not in self.compiled:
            envs = self.backend.make_envs(self.spec, self.num_envs, self.eval_episodes, runs)
            compiled = jax.jit(lambda inputs, *a: self.fn(envs.bound(inputs), *a))
            self.compiled[runs] = (envs, compiled)
        envs, compiled = self.compiled[runs]
        try:
            return compiled(envs.inputs(), *args)
        finally:
            envs.close()
