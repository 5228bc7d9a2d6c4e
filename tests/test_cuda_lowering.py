"""Every preset's training program lowers for CUDA on this CPU machine (`jax.export` with
platforms=("cuda",)): its `begin` and its segment `advance`, vmapped over a block's runs, as the
engine compiles them. The CPU-only lowerings (the unrolled Threefry rule, the bitonic shuffle) are
registered for the CPU alone, so CUDA gets JAX's own. ALE's XLA interface is a custom call with no
compatibility guarantee (ale-py registers CPU and CUDA targets for it): exported with that check
disabled. Host-backend presets (PyBullet, Gymnasium) step Python environments through host
callbacks, which lower only where a CUDA backend runs (docs: what runs where on a GPU host)."""

from functools import partial

import jax
import jax.numpy as jnp
import pytest
from conftest import teacher_file

from ticketlab.agents.experts import load_expert
from ticketlab.envs.backends import backend_of
from ticketlab.imp import memory
from ticketlab.imp.program import build
from ticketlab.presets import PRESETS, preset

ALE_CALLS = [
    jax.export.DisabledSafetyCheck.custom_call(name) for name in ("atari_vector_xla_reset", "atari_vector_xla_step")
]


def exported(exp, runs: int = 2, platform: str = "cuda") -> list:
    """`begin` and `advance` of a block of `runs` runs, exported for `platform`."""
    stages, backend = exp.agent.stages, backend_of(exp.spec)
    envs = backend.make_envs(exp.spec, exp.agent.num_envs, exp.agent.eval_episodes, None if backend.per_run else runs)
    keys, params, mask = memory.abstract_block(exp, runs)
    segment = (jnp.int32(0), jnp.int32(1))
    export = partial(jax.export.export, platforms=(platform,), disabled_checks=ALE_CALLS)
    try:
        if backend.per_run:
            begin = jax.vmap(partial(stages.begin, envs))
            advance = jax.vmap(
                lambda s, k, m, f, c: stages.advance(envs, s, k, m, f, c).carry, in_axes=(0, 0, 0, None, None)
            )
            stage = jax.eval_shape(begin, keys, params, mask)
            return [export(jax.jit(begin))(keys, params, mask), export(jax.jit(advance))(stage, keys, mask, *segment)]
        inputs = envs.inputs()
        begin = lambda i, k, p, m: stages.begin(envs.bound(i), k, p, m)  # noqa: E731
        advance = lambda i, s, k, m, f, c: stages.advance(envs.bound(i), s, k, m, f, c).carry  # noqa: E731
        stage = jax.eval_shape(begin, inputs, keys, params, mask)
        return [
            export(jax.jit(begin))(inputs, keys, params, mask),
            export(jax.jit(advance))(inputs, stage, keys, mask, *segment),
        ]
    finally:
        envs.close()


def _experiment(name, tmp_path):
    cfg = preset(name)
    if cfg.algo != "bc":
        return build(cfg)
    kind = "gaussian" if "bullet" in name else "q" if "minatar" in name else "categorical"
    env = preset(name).env.name
    hidden = (64, 64) if kind == "gaussian" else (128, 128)  # the presets' expert networks
    return build(cfg, load_expert(teacher_file(tmp_path, env, kind, hidden)))


HOST = {name for name in PRESETS.names() if "bullet" in name}
FAST = ["cartpole-bc", "breakout-minatar-dqn", "pong-atari-ppo"]  # (BC's stages; a CNN; ALE's custom calls)
CRAFTAX = [name for name in PRESETS.names() if name.startswith("craftax")]  # lowered in test_suites.py


def check_lowering(name, tmp_path):
    exp = _experiment(name, tmp_path)
    if name in HOST:
        with pytest.raises(
            ValueError, match="the platform for the specified backend cpu is different from the lowering platform cuda"
        ):
            exported(exp)
        return
    begin, advance = exported(exp)
    assert begin.platforms == advance.platforms == ("cuda",)
    assert "stablehlo" in advance.mlir_module()


@pytest.mark.parametrize("name", FAST)
def test_a_preset_of_each_family_lowers_for_cuda(name, tmp_path):
    check_lowering(name, tmp_path)


@pytest.mark.slow  # about 3 min: every preset, Brax's the slowest to trace
# the Craftax presets lower in tests/test_suites.py, in the process that runs Craftax's other tests
# (Craftax writes its texture cache into its package on first use; pytest -n runs a module per worker)
@pytest.mark.parametrize("name", [n for n in PRESETS.names() if n not in FAST + CRAFTAX])
def test_every_preset_lowers_for_cuda(name, tmp_path):
    check_lowering(name, tmp_path)
