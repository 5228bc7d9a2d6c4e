"""A block's device memory, estimated before anything trains (imp/memory.py), against XLA's own
memory analysis of the compiled segment; a block that cannot fit is refused in one line naming
the largest --block-seeds that fits, before anything is written."""

import dataclasses
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from ticketlab.core.errors import ConfigError
from ticketlab.envs.gymnax_envs import GymnaxEnvs
from ticketlab.imp import memory
from ticketlab.imp.program import build
from ticketlab.presets import preset


def _compiled_bytes(exp, runs: int) -> int:
    """Arguments, outputs and temporaries of the compiled segment of a block of `runs` runs, as XLA
    lays them out (what the estimate stands in for)."""
    stages = exp.agent.stages
    envs = GymnaxEnvs(exp.spec, exp.agent.num_envs, exp.agent.eval_episodes)
    keys, params, mask = memory.abstract_block(exp, runs)
    stage = jax.eval_shape(jax.vmap(lambda k, p, m: stages.begin(envs, k, p, m)), keys, params, mask)
    advance = jax.jit(
        jax.vmap(
            lambda s, k, m, first, count: stages.advance(envs, s, k, m, first, count).carry,
            in_axes=(0, 0, 0, None, None),
        )
    )
    analysis = advance.lower(stage, keys, mask, jnp.int32(0), jnp.int32(1)).compile().memory_analysis()
    return (
        analysis.argument_size_in_bytes
        + analysis.output_size_in_bytes
        + analysis.temp_size_in_bytes
        - analysis.alias_size_in_bytes
    )


def _dqn(buffer_size):
    cfg = preset("cartpole-dqn")
    return dataclasses.replace(cfg, dqn=dataclasses.replace(cfg.dqn, buffer_size=buffer_size))


@pytest.mark.parametrize("cfg,runs", [(preset("cartpole-ppo"), 15), (_dqn(400_000), 2)])
def test_the_estimate_is_within_a_small_factor_of_what_xla_allocates(cfg, runs):
    exp = build(cfg)
    estimate = memory.block_bytes(memory.run_bytes(exp), runs) - memory.FIXED
    actual = _compiled_bytes(exp, runs)
    assert 0.5 <= estimate / actual <= 3.5, (estimate, actual)


def test_the_estimate_grows_with_the_replay_buffer_and_the_runs():
    small, large = memory.run_bytes(build(_dqn(50_000))), memory.run_bytes(build(_dqn(500_000)))
    # a transition of Cart-Pole (two observations of 4 float32, an action, a reward, a done, a priority:
    # 45 bytes or a little more), twice: a segment holds its input stage and its output carry at once
    per_transition = (large - small) / 450_000 / 2
    assert 45 <= per_transition <= 64, per_transition
    assert memory.block_bytes(small, 8) > memory.block_bytes(small, 4)


def test_a_block_that_cannot_fit_is_refused_before_anything_is_written(tmp_path):
    args = [
        "cartpole-dqn",
        "--seeds",
        "64",
        "--dqn.buffer-size",
        "20000000",
        "--dqn.total-steps",
        "20000000",
        "--out",
        str(tmp_path / "runs"),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "ticketlab.cli", "run", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    found = re.fullmatch(
        r"ticketlab: error: block-seeds: a block of 64 runs needs about [\d.]+ GiB, host memory has "
        r"[\d.]+ GiB per worker.*; the largest --block-seeds that fits is (\d+)",
        line,
    )
    assert found, line
    assert not (tmp_path / "runs").exists()
    fits = int(found.group(1))
    assert 1 <= fits < 64
    exp = build(_dqn(20_000_000))
    workers = 2 if "2 workers share it" in line else 1
    memory.check_fits(dataclasses.replace(exp, cfg=dataclasses.replace(exp.cfg, seeds=64, block_seeds=fits)), workers)
    with pytest.raises(ConfigError, match="largest --block-seeds that fits"):
        memory.check_fits(
            dataclasses.replace(exp, cfg=dataclasses.replace(exp.cfg, seeds=64, block_seeds=fits + 8)), workers
        )
