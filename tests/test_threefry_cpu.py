"""The unrolled CPU lowering of Threefry the package installs gives JAX's bits exactly.

JAX caches lowerings per process, so the rolled side runs in a subprocess that keeps JAX's own
lowering (TICKETLAB_ROLLED_THREEFRY=1) and writes its draws to an npz file."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

import ticketlab  # noqa: F401  (installs the unrolled lowering unless told not to)
from ticketlab.runtime.threefry_cpu import ROLLED_ENV, use_unrolled_threefry


def draws(seed: int) -> dict:
    """Keys split, bits, a permutation, categorical and normal samples, jitted and vmapped over 3
    keys; and whether the lowered program of `jax.random.bits` holds a while loop."""

    def one(key):
        k1, k2, k3 = jax.random.split(key, 3)
        return (
            jax.random.key_data(jax.random.split(k1, 5)),
            jax.random.bits(k2, (7, 3)),
            jax.random.permutation(k3, 128),
            jax.random.categorical(k1, jnp.zeros((11, 4))),
            jax.random.normal(k2, (5,)),
        )

    keys = jax.random.split(jax.random.PRNGKey(seed), 3)
    leaves = jax.tree_util.tree_leaves(jax.jit(jax.vmap(one))(keys))
    text = jax.jit(lambda k: jax.random.bits(k, (3,))).lower(jax.random.PRNGKey(0)).as_text()
    return {
        **{f"draw_{i}": np.asarray(x) for i, x in enumerate(leaves)},
        "while_loop": np.array("stablehlo.while" in text),
    }


def test_unrolled_and_rolled_threefry_draw_the_same_bits(tmp_path):
    path = tmp_path / "rolled.npz"
    subprocess.run([sys.executable, __file__, str(path)], check=True, env={**os.environ, ROLLED_ENV: "1"})
    rolled = dict(np.load(path, allow_pickle=False))
    unrolled = draws(3)
    assert rolled.pop("while_loop") and not unrolled.pop("while_loop")  # the two lowerings really differ
    assert rolled.keys() == unrolled.keys()
    for name in rolled:
        np.testing.assert_array_equal(rolled[name], unrolled[name], err_msg=name)


def test_the_environment_variable_keeps_the_rolled_loop(monkeypatch):
    monkeypatch.setenv(ROLLED_ENV, "1")
    assert not use_unrolled_threefry()


if __name__ == "__main__":
    np.savez(sys.argv[1], **draws(3))
