"""MLP actor and separate MLP critic with named layers (`actor/dense_0`, `critic/dense_1`, ...)."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from flax import linen as nn

from ticketlab.config import InitConfig, NetworkConfig
from ticketlab.networks.init import layer_initializers

ACTIVATIONS: dict[str, Callable] = {"tanh": jnp.tanh, "relu": nn.relu}


class MLP(nn.Module):
    """Dense layers `dense_0 .. dense_{n}`; the last one is the linear output head."""

    hidden: tuple[int, ...]
    out: int
    activation: str
    scheme: str
    input_scale: float
    is_policy: bool
    obs_ndim: int = 1
    """Trailing observation dims, flattened before the first layer (image inputs)."""
    dropout: float = 0.0
    """Dropout rate after every hidden layer when called with `train=True` (needs a "dropout" rng)."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = x.reshape(x.shape[: x.ndim - self.obs_ndim] + (-1,)).astype(jnp.float32)
        widths = tuple(self.hidden) + (self.out,)
        for i, width in enumerate(widths):
            last = i == len(widths) - 1
            kernel_init, bias_init = layer_initializers(
                self.scheme, x.shape[-1], last, self.is_policy, self.input_scale if i == 0 else 1.0
            )
            x = nn.Dense(width, kernel_init=kernel_init, bias_init=bias_init, name=f"dense_{i}")(x)
            if not last:
                x = ACTIVATIONS[self.activation](x)
                if self.dropout > 0.0:
                    x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return x


def actor_critic(net: NetworkConfig, init: InitConfig, num_actions: int, obs_ndim: int = 1) -> tuple[MLP, MLP]:
    actor = MLP(net.actor_hidden, num_actions, net.activation, init.scheme, init.input_scale, True, obs_ndim)
    critic = MLP(net.critic_hidden, 1, net.activation, init.scheme, init.input_scale, False, obs_ndim)
    return actor, critic


def init_params(key, actor: MLP, critic: MLP, obs_shape: tuple[int, ...]) -> dict:
    """Params `{"actor": {...}, "critic": {...}}`, each module from its own key."""
    k_actor, k_critic = jax.random.split(key)
    dummy = jnp.zeros((1,) + tuple(obs_shape), jnp.float32)
    return {
        "actor": actor.init(k_actor, dummy)["params"],
        "critic": critic.init(k_critic, dummy)["params"],
    }


def policy_logits(actor: MLP, params: dict, obs):
    return actor.apply({"params": params["actor"]}, obs)


def state_value(critic: MLP, params: dict, obs):
    return critic.apply({"params": params["critic"]}, obs)[..., 0]
