"""A PureJaxRL-style PPO on gymnax Cart-Pole, written without ticketlab's agents, and its lottery
ticket found by `ticketlab.find_tickets`.

The agent is the usual single file: `make_train(config)` returns a pure `train`, jit- and
vmap-able. Two lines make it a ticketlab citizen: the forward pass sees `apply_mask(params, mask)`,
and the optimizer is `ticketlab.masked(optimizer, mask)`. It returns the best greedy evaluation's
params as a `TrainResult`.

    python examples/purejaxrl_ppo.py                      # 3 seeds x 20 levels, about 2 minutes on 2 cores
    python examples/purejaxrl_ppo.py --seeds 5 --levels 12 --log tensorboard
"""
from __future__ import annotations

import argparse
from typing import NamedTuple

import distrax
import flax.linen as nn
import gymnax
import jax
import jax.numpy as jnp
import optax

import ticketlab

CONFIG = dict(lr=2.5e-4, num_envs=4, num_steps=128, total_timesteps=80_000, update_epochs=4, num_minibatches=4,
              gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5,
              eval_every=10, eval_episodes=8, env="CartPole-v1", hidden=64)
"""PureJaxRL's Cart-Pole PPO settings (eval_every in updates)."""


class MLP(nn.Module):
    """tanh MLP with layers named dense_0, dense_1, ... (ticketlab's input figure reads dense_0)."""
    hidden: int
    out: int
    out_scale: float

    @nn.compact
    def __call__(self, x):
        for i in range(2):
            x = nn.tanh(nn.Dense(self.hidden, kernel_init=nn.initializers.orthogonal(jnp.sqrt(2.0)),
                                 bias_init=nn.initializers.zeros, name=f"dense_{i}")(x))
        return nn.Dense(self.out, kernel_init=nn.initializers.orthogonal(self.out_scale),
                        bias_init=nn.initializers.zeros, name="dense_2")(x)


class Transition(NamedTuple):
    done: jnp.ndarray
    action: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    log_prob: jnp.ndarray
    obs: jnp.ndarray


def make_networks(config):
    env, env_params = gymnax.make(config["env"])
    # PureJaxRL scales the policy's output layer by 0.01; global magnitude pruning would then remove
    # that whole layer within two levels (its trained weights stay the smallest), so it starts at 1.
    actor = MLP(config["hidden"], env.action_space(env_params).n, 1.0)
    critic = MLP(config["hidden"], 1, 1.0)
    return env, env_params, actor, critic


def make_init(config):
    env, env_params, actor, critic = make_networks(config)
    obs = jnp.zeros(env.observation_space(env_params).shape)

    def init(key):
        ka, kc = jax.random.split(key)
        return {"actor": actor.init(ka, obs)["params"], "critic": critic.init(kc, obs)["params"]}

    return init


def make_train(config):
    env, env_params, actor, critic = make_networks(config)
    num_updates = config["total_timesteps"] // config["num_steps"] // config["num_envs"]
    minibatch_size = config["num_envs"] * config["num_steps"] // config["num_minibatches"]

    def policy(params, obs):
        return distrax.Categorical(logits=actor.apply({"params": params["actor"]}, obs))

    def value(params, obs):
        return critic.apply({"params": params["critic"]}, obs)[..., 0]

    def evaluate(params, key):
        """Mean greedy return of `eval_episodes` episodes (each until its first done)."""
        keys = jax.random.split(key, config["eval_episodes"])
        obs, state = jax.vmap(env.reset, (0, None))(keys, env_params)

        def step(carry, _):
            obs, state, key, ret, alive = carry
            key, sub = jax.random.split(key)
            action = jnp.argmax(actor.apply({"params": params["actor"]}, obs), axis=-1)
            obs, state, reward, terminated, truncated, _ = jax.vmap(env.step, (0, 0, 0, None))(
                jax.random.split(sub, config["eval_episodes"]), state, action, env_params)
            done = jnp.logical_or(terminated, truncated)
            return (obs, state, key, ret + reward * alive, alive * (1.0 - done)), None

        init = (obs, state, key, jnp.zeros(config["eval_episodes"]), jnp.ones(config["eval_episodes"]))
        (_, _, _, ret, _), _ = jax.lax.scan(step, init, None, env_params.max_steps_in_episode)
        return ret.mean()

    def train(key, params, mask):
        tx = ticketlab.masked(optax.chain(optax.clip_by_global_norm(config["max_grad_norm"]),
                                          optax.adam(config["lr"], eps=1e-5)), mask)
        params = ticketlab.apply_mask(params, mask)
        opt_state = tx.init(params)
        key, reset_key = jax.random.split(key)
        obs, env_state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, config["num_envs"]), env_params)

        def loss_fn(p, batch, gae, targets):
            p = ticketlab.apply_mask(p, mask)
            pi, v = policy(p, batch.obs), value(p, batch.obs)
            log_prob = pi.log_prob(batch.action)
            v_clipped = batch.value + (v - batch.value).clip(-config["clip_eps"], config["clip_eps"])
            value_loss = 0.5 * jnp.maximum((v - targets) ** 2, (v_clipped - targets) ** 2).mean()
            ratio = jnp.exp(log_prob - batch.log_prob)
            gae = (gae - gae.mean()) / (gae.std() + 1e-8)
            actor_loss = -jnp.minimum(ratio * gae, ratio.clip(1 - config["clip_eps"], 1 + config["clip_eps"]) * gae).mean()
            return actor_loss + config["vf_coef"] * value_loss - config["ent_coef"] * pi.entropy().mean()

        def update(runner, index):
            params, opt_state, env_state, obs, key, best_params, best_return, curve = runner
            masked = ticketlab.apply_mask(params, mask)  # once per rollout: params do not change in it

            def env_step(carry, _):
                env_state, obs, key = carry
                key, act_key, step_key = jax.random.split(key, 3)
                pi = policy(masked, obs)
                action = pi.sample(seed=act_key)
                obs2, env_state, reward, terminated, truncated, _ = jax.vmap(env.step, (0, 0, 0, None))(
                    jax.random.split(step_key, config["num_envs"]), env_state, action, env_params)
                done = jnp.logical_or(terminated, truncated)  # (PureJaxRL: no bootstrap through either)
                return (env_state, obs2, key), Transition(done, action, value(masked, obs), reward,
                                                          pi.log_prob(action), obs)

            (env_state, obs, key), traj = jax.lax.scan(env_step, (env_state, obs, key), None, config["num_steps"])
            last_value = value(masked, obs)

            def gae_step(carry, t):
                gae, next_value = carry
                delta = t.reward + config["gamma"] * next_value * (1 - t.done) - t.value
                gae = delta + config["gamma"] * config["gae_lambda"] * (1 - t.done) * gae
                return (gae, t.value), gae

            _, advantages = jax.lax.scan(gae_step, (jnp.zeros_like(last_value), last_value), traj, reverse=True)
            targets = advantages + traj.value

            def epoch(carry, _):
                params, opt_state, key = carry
                key, perm_key = jax.random.split(key)
                flat = jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:]), (traj, advantages, targets))
                order = jax.random.permutation(perm_key, minibatch_size * config["num_minibatches"])
                shuffled = jax.tree_util.tree_map(
                    lambda x: x[order].reshape((config["num_minibatches"], minibatch_size) + x.shape[1:]), flat)

                def minibatch(carry, batch):
                    params, opt_state = carry
                    grads = jax.grad(loss_fn)(params, *batch)
                    updates, opt_state = tx.update(grads, opt_state, params)
                    return (optax.apply_updates(params, updates), opt_state), None

                (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), shuffled)
                return (params, opt_state, key), None

            (params, opt_state, key), _ = jax.lax.scan(epoch, (params, opt_state, key), None, config["update_epochs"])
            key, eval_key = jax.random.split(key)
            evaluated = (index + 1) % config["eval_every"] == 0
            ret = jax.lax.cond(evaluated, lambda: evaluate(params, eval_key), lambda: -jnp.inf)
            better = ret > best_return
            best_params = jax.tree_util.tree_map(lambda b, p: jnp.where(better, p, b), best_params, params)
            curve = curve.at[index // config["eval_every"]].set(jnp.where(evaluated, ret, curve[index // config["eval_every"]]))
            return (params, opt_state, env_state, obs, key, best_params, jnp.maximum(best_return, ret), curve), None

        n_evals = num_updates // config["eval_every"]
        runner = (params, opt_state, env_state, obs, key, params, -jnp.inf, jnp.zeros(max(n_evals, 1)))
        runner, _ = jax.lax.scan(update, runner, jnp.arange(num_updates))
        params, best_params, best_return, curve = runner[0], runner[5], runner[6], runner[7]
        return ticketlab.TrainResult(best_params=best_params, best_return=best_return, curve=curve, final_params=params)

    return train


# Module-level functions (importable by name, so worker processes can train them too).
init = make_init(CONFIG)
train = make_train(CONFIG)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--out", default="runs/purejaxrl-ppo")
    parser.add_argument("--log", nargs="*", default=[])
    args = parser.parse_args(argv)
    run = ticketlab.find_tickets(
        init=init, train=train, prune=["actor"], seeds=args.seeds, levels=args.levels,
        input_names=["cart position", "cart velocity", "pole angle", "pole angular velocity"],
        out=args.out, settings=CONFIG, env_steps=CONFIG["total_timesteps"], log=args.log)
    ticketlab.plot(run)
    ticketlab.report(run)
    return run


if __name__ == "__main__":
    main()
