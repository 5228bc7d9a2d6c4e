"""The devices that train blocks: JAX's local devices of its default backend, each worker process
bound to one of them.

Blocks go to devices as they go to worker processes on the CPU: each worker trains one block at a
time on its device, and a block's numbers are a function of the config and the store alone, so
they do not depend on how many devices (or workers) trained them (tests/test_devices.py: 1, 2 and
4 forced CPU devices write identical stores). A worker on an accelerator sees only its own device
(`CUDA_VISIBLE_DEVICES`, `HIP_VISIBLE_DEVICES`), with its share of the device's memory when several
workers share one; elsewhere (the CPU's forced devices) it keeps every device and makes its own the
default one (`jax_default_device`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import jax

from ticketlab.core.errors import ConfigError

VISIBLE_DEVICES = {"gpu": "CUDA_VISIBLE_DEVICES", "cuda": "CUDA_VISIBLE_DEVICES", "rocm": "HIP_VISIBLE_DEVICES"}
"""Platform -> the variable that limits a process to some of its devices."""

PREALLOCATED = 0.75
"""The fraction of a GPU's memory JAX preallocates (XLA_PYTHON_CLIENT_MEM_FRACTION's default),
shared among the workers bound to one device."""

DETERMINISTIC_GPU = ("--xla_gpu_deterministic_ops=true",)
"""XLA flags that make GPU reductions (scatter-adds, atomics in fused kernels) run in a fixed order,
so a resumed or repeated GPU run gives the same bits; the CPU ignores them."""


@dataclass(frozen=True)
class DeviceSlot:
    """One worker's device: what to add to its environment before it starts, and which of the
    devices it then sees to make its default (None: leave JAX's default)."""

    device: int
    env: dict = field(default_factory=dict)
    index: int | None = None


def default_platform() -> str:
    """JAX's default backend here (cpu, gpu, tpu, ...); this starts JAX's backends in this process."""
    return jax.default_backend()


def local_device_count(platform: str | None = None) -> int:
    return len(jax.local_devices(backend=platform))


def is_accelerator(platform: str) -> bool:
    return platform != "cpu"


def check_devices(value, available: int, platform: str) -> int:
    """`value` (`--devices`: None or "all" for every device) as a device count in 1 .. available."""
    if value is None or value == "all":
        return available
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = None
    if n is None or n < 1 or n > available or str(n) != str(value).strip():
        raise ConfigError(
            "devices",
            f"must be a whole number from 1 to {available} (the {platform} devices here) or all, got {value!r}",
        )
    return n


def worker_slots(platform: str, devices: int, workers: int) -> list[DeviceSlot]:
    """The device of each of `workers` workers, round robin over the first `devices` devices."""
    assigned = [w % devices for w in range(workers)]
    variable = VISIBLE_DEVICES.get(platform)
    if variable is None:
        return [DeviceSlot(d, index=d if devices > 1 else None) for d in assigned]
    visible = os.environ.get(variable, "").split(",") if os.environ.get(variable) else [str(i) for i in range(devices)]
    share = {d: assigned.count(d) for d in set(assigned)}
    return [
        DeviceSlot(
            d,
            env={
                variable: visible[d],
                "XLA_PYTHON_CLIENT_PREALLOCATE": "true",
                "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{PREALLOCATED / share[d]:.3f}",
            },
        )
        for d in assigned
    ]


def use_slot_device(slot: DeviceSlot | None) -> None:
    """In a worker: make its device the default one."""
    if slot is not None and slot.index is not None:
        jax.config.update("jax_default_device", jax.local_devices()[slot.index])
