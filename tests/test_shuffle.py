"""The sort-free minibatch shuffle draws `jax.random.permutation`'s integers exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.agents.shuffle import (
    BITONIC_MAX,
    bitonic_permutation,
    bitonic_stages,
    permutation,
    sort_rounds,
    stable_argsort,
)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 31, 32, 33, 100, 128, 1000, 1625, 1626, 2500])
def test_bitonic_permutation_is_jax_random_permutation(n):
    keys = jax.random.split(jax.random.PRNGKey(n), 6)
    expected = np.stack([np.asarray(jax.random.permutation(k, n)) for k in keys])
    batched = jax.jit(jax.vmap(lambda k: bitonic_permutation(k, n)))(keys)
    np.testing.assert_array_equal(np.asarray(batched), expected)
    # typed keys too, one at a time, through the public entry point
    typed = jax.random.wrap_key_data(keys[0])
    np.testing.assert_array_equal(np.asarray(jax.jit(permutation, static_argnums=1)(typed, n)), expected[0])


def test_rounds_follow_jax():
    # jax sorts once up to 1,625 indices and twice from 1,626 (its 3 ln n / ln(2^32 - 1) rule)
    assert [sort_rounds(n) for n in (0, 1, 2, 1625, 1626, 8192)] == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("n", [1, 2, 7, 64, 100, 257])
def test_stable_argsort_keeps_index_order_on_ties(n):
    rng = np.random.default_rng(n)
    for high in (2, 5, 2**32 - 1):  # many ties, some, almost none
        keys = rng.integers(0, high, size=n, dtype=np.uint64).astype(np.uint32)
        keys[: n // 3] = np.iinfo(np.uint32).max  # the padding's own key, on real entries
        got = np.asarray(jax.jit(stable_argsort)(jnp.asarray(keys)))
        np.testing.assert_array_equal(got, np.argsort(keys, kind="stable"))


def test_bitonic_network_has_log_squared_stages():
    stages = bitonic_stages(128)
    assert len(stages) == 7 * 8 // 2
    assert stages[0].tolist() == [2, 1] and stages[-1].tolist() == [128, 1]


def test_cpu_programs_shuffle_without_a_sort():
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    small = jax.jit(jax.vmap(lambda k: permutation(k, 128))).lower(keys).compile().as_text()
    large = jax.jit(jax.vmap(lambda k: permutation(k, BITONIC_MAX + 1))).lower(keys).compile().as_text()
    assert " sort(" not in small and " sort(" in large
