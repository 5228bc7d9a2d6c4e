"""Threefry on the CPU with its rounds unrolled, as JAX already lowers it on GPUs and TPUs.

JAX lowers its default PRNG, Threefry-2x32, to a rolled `fori_loop` of 5 x 4 rounds on the CPU
(`jax._src.random.threefry2x32`, its CPU rule). Our training programs draw keys
and random bits at every env step, minibatch and evaluation, so a compiled program holds dozens of
these small while loops: each is compiled as its own computation and run as a loop of tiny kernels.
Lowering them unrolled, with JAX's own rule for other platforms, gives the same bits (the same 20
rounds in the same order; tested against the rolled lowering) and, measured on this project's
Cart-Pole PPO program (`bench/bench_compile.py`), compiles in about two thirds of the time and
runs its rollouts faster.

`use_unrolled_threefry()` installs that rule for the CPU platform of the calling process; the
package does so on import. Set `TICKETLAB_ROLLED_THREEFRY=1` to keep JAX's rolled CPU lowering.
It returns False (and changes nothing) if this JAX version has no such rule.
"""

from __future__ import annotations

import importlib
import os

from jax.extend.random import threefry2x32_p
from jax.interpreters import mlir

ROLLED_ENV = "TICKETLAB_ROLLED_THREEFRY"
_RULE_MODULES = ("jax._src.random.threefry2x32", "jax._src.prng")
"""Where JAX keeps its Threefry lowering rules (private modules: this JAX's first, then older ones')."""


def _jax_rule(name: str):
    for module in _RULE_MODULES:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


def _install(name: str) -> bool:
    rule = _jax_rule(name)
    if rule is None:
        return False
    mlir.register_lowering(threefry2x32_p, rule, platform="cpu")
    return True


def use_unrolled_threefry() -> bool:
    """Lower Threefry-2x32 unrolled on the CPU (JAX's rule for other platforms); True if installed."""
    if os.environ.get(ROLLED_ENV, "") not in ("", "0"):
        return False
    return _install("_threefry2x32_lowering_rule")


def use_rolled_threefry() -> bool:
    """JAX's default rolled CPU lowering back (for comparisons); True if it was restored."""
    return _install("_threefry2x32_cpu_lowering_rule")
