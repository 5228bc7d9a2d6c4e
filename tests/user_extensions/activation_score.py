"""A pruning score that reads more than params and gradients, from a user's own module: Wanda's
|w_ij| * ||x_i|| (Sun et al. 2024), each weight's magnitude times the L2 norm of its input feature
over a batch of the agent's own observations. Two entries and no file of ticketlab touched: the input
(`input_norms`, every dense layer's input features, recorded by intercepting the agent's networks'
Dense calls on its batch) and the score."""
import flax.linen as nn
import jax
import jax.numpy as jnp

from ticketlab.pruning.scores import SCORE_INPUTS, SCORES, Score, ScoreInput, register_score, register_score_input


def input_norms(batch, params, prunable):
    """{module: {layer: ||x_i|| over the batch, per input feature of its kernel}}."""
    obs = batch.observe()
    norms = {}
    for module, forward in batch.forward.items():
        seen = {}

        def record(next_fun, args, kwargs, context, seen=seen):
            if isinstance(context.module, nn.Dense) and context.method_name == "__call__":
                x = args[0]
                seen[context.module.name] = jnp.sqrt(jnp.sum(x.reshape(-1, x.shape[-1]) ** 2, axis=0))
            return next_fun(*args, **kwargs)

        with nn.intercept_methods(record):
            forward(params[module], obs)
        norms[module] = seen
    return norms


def wanda(params, inputs):
    norms = inputs["input_norms"]

    def score(path, w):
        keys = [str(getattr(k, "key", k)) for k in path]
        layer_norms = norms.get(keys[0], {}).get(keys[1]) if len(keys) == 3 and keys[2] == "kernel" else None
        return jnp.abs(w) if layer_norms is None else jnp.abs(w) * layer_norms[:, None]

    return jax.tree_util.tree_map_with_path(score, params)


def register():
    """Register the entries; returns (registry, name) of each, for undoing."""
    register_score_input(ScoreInput("input_norms", input_norms))
    register_score(Score("wanda", wanda, needs=("input_norms",),
                         description="|w| times its input feature's norm on a batch (Sun et al. 2024)"))
    return [(SCORES, "wanda"), (SCORE_INPUTS, "input_norms")]
