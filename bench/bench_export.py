"""Inference speed of a compact exported network (`ticketlab export`) against the masked network it
came from, in one process: the same actor, its inputs, jitted, on batches of 1 and 1024
observations. The network is the Cart-Pole PPO actor (paper scale) pruned by magnitude to each density, layer by
layer (global pruning of an untrained network would cut its small output layer first; the speed
depends on the shapes alone, not on training); the compact network drops the inputs and units the
mask leaves without connections. Ratios are masked /
compact, so above 1 means the compact network is faster.

    python bench/bench_export.py [--densities 0.2,0.05,0.014] [--repeats 2000]
    python bench/bench_export.py --run runs/cartpole-ppo-2f1df420cb --levels 9,15,19   # a run's tickets
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.presets import preset
from ticketlab.pruning.compact import compact_module
from ticketlab.pruning.masks import apply_mask, prunable_tree
from ticketlab.store import files, paths


def layerwise_mask(tree, prunable, density: float):
    """Keep the largest-|w| `density` of each prunable kernel (at least one weight per layer)."""

    def layer(w, pr):
        if not pr:
            return jnp.ones(w.shape, bool)
        keep = max(1, int(round(density * w.size)))
        threshold = jnp.sort(jnp.abs(w).ravel())[-keep]
        return jnp.abs(w) >= threshold

    return jax.tree_util.tree_map(layer, tree, prunable)


def timed_call(fn, x, repeats: int) -> float:
    """Microseconds per call of a jitted `fn(x)` (compiled and warmed first)."""
    fn(x).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn(x)
    out.block_until_ready()
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--densities", default="0.2,0.05,0.014")
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--run", default="", help="a Cart-Pole PPO run: time its tickets (seed 0) instead")
    parser.add_argument("--levels", default="9,15,19")
    args = parser.parse_args()
    cfg = preset("cartpole-ppo", "paper")
    spec = run_spec(cfg)
    acting = AGENTS.get(cfg.algo).acting(cfg, spec)
    params = acting.network.init(jax.random.PRNGKey(0), jnp.zeros((1, *spec.obs_shape)))["params"]
    tree = {"actor": params}
    prunable = prunable_tree(tree, "actor")
    print("| density | compact layers | weights masked / compact | batch | masked us | compact us | masked / compact |")
    print("|---|---|---|---|---|---|---|")
    if args.run:
        run = Path(args.run)
        cases = [
            (
                files.load_tree(paths.tree_file(run, int(level), 0, "mask_weights", "best")),
                files.load_tree(paths.tree_file(run, int(level), 0, "mask_weights", "mask")),
            )
            for level in args.levels.split(",")
        ]
    else:
        cases = [(tree, layerwise_mask(tree, prunable, float(d))) for d in args.densities.split(",")]
    for tree, mask in cases:
        total = sum(np.asarray(m["kernel"]).size for m in mask["actor"].values())
        density = sum(np.asarray(m["kernel"]).sum() for m in mask["actor"].values()) / total
        masked_params = apply_mask(tree, mask)["actor"]
        module = compact_module(
            jax.tree_util.tree_map(np.asarray, tree["actor"]), jax.tree_util.tree_map(np.asarray, mask["actor"]), "tanh"
        )
        layers = [jax.tree_util.tree_map(jnp.asarray, layer) for layer in module.layers]
        inputs = jnp.asarray(module.inputs)
        masked_fn = jax.jit(lambda x: acting.network.apply({"params": masked_params}, x))

        def compact(x):
            h = x[..., inputs]
            for i, layer in enumerate(layers):
                h = h @ layer["kernel"] + layer["bias"]
                h = jnp.tanh(h) if i < len(layers) - 1 else h
            return h

        compact_fn = jax.jit(compact)
        shapes = ",".join(f"{layer['kernel'].shape[0]}x{layer['kernel'].shape[1]}" for layer in module.layers)
        kept = int(sum(np.asarray(m["kernel"]).sum() for m in mask["actor"].values()))
        compact_weights = sum(layer["kernel"].size for layer in module.layers)
        for batch in (1, 1024):
            x = jax.random.normal(jax.random.PRNGKey(batch), (batch, *spec.obs_shape))
            np.testing.assert_allclose(np.asarray(masked_fn(x)), np.asarray(compact_fn(x)), rtol=1e-4, atol=1e-5)
            t_masked, t_compact = timed_call(masked_fn, x, args.repeats), timed_call(compact_fn, x, args.repeats)
            print(
                f"| {density:.3f} | {shapes} | {kept} / {compact_weights} | {batch} | {t_masked:.1f} | "
                f"{t_compact:.1f} | {t_masked / t_compact:.2f} |"
            )


if __name__ == "__main__":
    main()
