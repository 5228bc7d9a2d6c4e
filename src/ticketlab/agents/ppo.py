"""PPO with a categorical or Gaussian policy head as one pure, jit-compiled function
`train(keys, start_params, mask)`.

Rollouts, GAE, the clipped-surrogate update and evaluation all run inside one `lax.scan`;
`jax.vmap` over `train` runs every (seed, condition) of an IMP level in one compiled call. The
training function never knows the IMP condition: conditions only choose (start_params, mask).
`act` and `learn` are the pieces the host-side path (agents/ppo_host.py) reuses unchanged, so
both paths share one implementation of the loss and the update.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef
from ticketlab.agents.evaluate import evaluate_episodes, policy_actor
from ticketlab.agents.gae import gae
from ticketlab.agents.heads import EVAL_POLICIES, head_for
from ticketlab.agents.loop import Cadence, Tracking, after_step, count_episodes, fresh_tracking, train_output
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.agents.shuffle import permutation
from ticketlab.core.config import ExperimentConfig, PPOConfig
from ticketlab.core.errors import ConfigError, check_choice, check_fields_positive, check_positive
from ticketlab.networks.network import make_network
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


@struct.dataclass
class Transition:
    obs: jax.Array
    action: jax.Array
    """The sampled action (a Gaussian draw before clipping to the bounds)."""
    log_prob: jax.Array
    reward: jax.Array
    done: jax.Array
    bootstrap: jax.Array
    """True on truncated, non-terminal steps: their return bootstraps from V(final observation)."""


@struct.dataclass
class Runner:
    params: Any
    opt_state: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array
    episode_return: jax.Array
    tracking: Tracking


@dataclass(frozen=True)
class Schedule:
    num_updates: int
    env_steps: int
    minibatch_size: int
    cadence: Cadence


def schedule(cfg: PPOConfig, rewind_steps: int = 0) -> Schedule:
    """Static sizes of one training run."""
    batch = cfg.num_envs * cfg.rollout_len
    num_updates = cfg.total_steps // batch
    return Schedule(num_updates=num_updates, env_steps=num_updates * batch, minibatch_size=batch // cfg.minibatches,
                    cadence=Cadence(num_updates, cfg.eval_every, rewind_steps // batch))


ADVANTAGE_NORMS = ("minibatch", "batch")


def normalize_over_batch(advantages, weights=None):
    """rlpyt's whole-batch normalization: (A - mean) / max(std, 1e-6), std with Bessel's correction
    (torch.Tensor.std), applied once to the rollout before it is split into minibatches; over the
    steps whose `weights` are 1 when given (see `step_mean`)."""
    if weights is None:
        return (advantages - advantages.mean()) / jnp.maximum(advantages.std(ddof=1), 1e-6)
    w = weights.astype(advantages.dtype)
    n = jnp.maximum(w.sum(), 2.0)
    mean = (advantages * w).sum() / n
    std = jnp.sqrt((w * (advantages - mean) ** 2).sum() / (n - 1.0))
    return (advantages - mean) / jnp.maximum(std, 1e-6)


def step_mean(weights):
    """The mean over a batch's steps: plain, or over the steps whose `weights` are 1 (a rollout's
    `valid` field: steps that are not an environment's autoreset, agents/ppo_atari.py)."""
    if weights is None:
        return lambda x: x.mean()
    w = weights.astype(jnp.float32)
    n = jnp.maximum(w.sum(), 1.0)
    return lambda x: (x * w).sum() / n


def step_weights(batch):
    """The `valid` field of a rollout that has one (else None: every step counts)."""
    return getattr(batch, "valid", None)


def networks(cfg: ExperimentConfig, spec):
    """(actor, critic) of a config: separate networks, layers named as in `make_network`."""
    head = head_for(spec)
    common = dict(obs_shape=spec.obs_shape, activation=cfg.network.activation, scheme=cfg.init.scheme,
                  input_scale=cfg.init.input_scale, torso=cfg.network.torso, image_layout=spec.image_layout)
    actor = make_network(hidden=cfg.network.actor_hidden, out=head.num_outputs, is_policy=True,
                         gaussian=head.gaussian, log_std_init=cfg.network.log_std_init,
                         mean_activation=cfg.network.mean_activation, **common)
    if cfg.init.input_scale_modules == "pruned" and cfg.imp.scope == "actor":
        common = dict(common, input_scale=1.0)  # the critic is not pruned: it keeps its plain init
    critic = make_network(hidden=cfg.network.critic_hidden, out=1, is_policy=False, **common)
    return actor, critic


class PPO:
    """The pieces of one PPO configuration: acting, the loss, learning from a rollout."""

    def __init__(self, cfg: ExperimentConfig, spec):
        self.cfg, self.spec = cfg.ppo, spec
        self.actor, self.critic = networks(cfg, spec)
        self.head = head_for(spec)
        self.sizes = schedule(cfg.ppo, cfg.imp.rewind_steps)
        self.eval_policy = cfg.eval.policy
        p = cfg.ppo
        grad_steps = self.sizes.num_updates * p.epochs * p.minibatches
        lr = optax.linear_schedule(p.lr, 0.0, grad_steps) if p.lr_schedule == "linear" else p.lr
        self.tx = adam(lr, p.max_grad_norm, cfg.network.weight_decay)

    def init(self, key):
        """Params `{"actor": ..., "critic": ...}`, each module from its own key."""
        k_actor, k_critic = jax.random.split(key)
        dummy = jnp.zeros((1,) + tuple(self.spec.obs_shape), jnp.float32)
        return {"actor": self.actor.init(k_actor, dummy)["params"],
                "critic": self.critic.init(k_critic, dummy)["params"]}

    def policy_out(self, params, obs):
        return self.actor.apply({"params": params["actor"]}, obs)

    def value(self, params, obs):
        return self.critic.apply({"params": params["critic"]}, obs)[..., 0]

    def act(self, params, mask, k_act, obs):
        """(action, log_prob) of masked params at `obs`. (Values are not needed while acting: the
        params do not change during a rollout, so `advantages` evaluates the critic on the whole
        rollout at once.)"""
        return self.act_masked(apply_mask(params, mask), k_act, obs)

    def act_masked(self, p, k_act, obs):
        """`act` of params the mask is already applied to."""
        dist = self.head.distribution(self.policy_out(p, obs))
        action = dist.sample(seed=k_act)
        return action, dist.log_prob(action)

    def clip_at(self, update_index):
        """The ratio clip of update `update_index` (0-based; a Python int or a traced one). linear:
        rlpyt's, which sets clip-eps * (n - k) / n after update k, so update u clips at
        clip-eps * (n - max(u - 1, 0)) / n."""
        if self.cfg.clip_schedule == "linear":
            return self.cfg.clip_eps * (1.0 - jnp.maximum(update_index - 1, 0) / self.sizes.num_updates)
        return self.cfg.clip_eps

    def loss(self, params, mask, batch: Transition, advantages, targets, clip_eps=None):
        cfg = self.cfg
        clip_eps = cfg.clip_eps if clip_eps is None else clip_eps
        p = apply_mask(params, mask)
        dist = self.head.distribution(self.policy_out(p, batch.obs))
        log_prob = dist.log_prob(batch.action)
        value = self.value(p, batch.obs)
        weights = step_weights(batch)
        mean = step_mean(weights)
        if cfg.normalize_advantages and cfg.advantage_norm == "minibatch":
            if weights is None:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            else:
                centred = advantages - mean(advantages)
                advantages = centred / (jnp.sqrt(mean(centred ** 2)) + 1e-8)
        ratio = jnp.exp(log_prob - batch.log_prob)
        clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
        policy_loss = -mean(jnp.minimum(ratio * advantages, clipped * advantages))
        value_loss = 0.5 * mean((value - targets) ** 2)
        entropy = mean(dist.entropy())
        return policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy

    def advantages(self, params, mask, traj: Transition, final_obs, last_obs):
        """GAE advantages and value targets of a time-major rollout [T, E]; truncated steps
        bootstrap from the value of their final observation, terminated ones do not. The critic
        sees every observation of the rollout, the final ones and the last in one batch."""
        p = apply_mask(params, mask)
        T, E = traj.reward.shape
        flat = lambda x: x.reshape((T * E,) + x.shape[2:])  # noqa: E731
        values = self.value(p, jnp.concatenate([flat(traj.obs), flat(final_obs), last_obs]))
        step_values = values[:T * E].reshape(T, E)
        final_values = values[T * E:2 * T * E].reshape(T, E)
        rewards = traj.reward + self.cfg.gamma * final_values * traj.bootstrap
        return gae(rewards, step_values, traj.done, values[2 * T * E:], self.cfg.gamma, self.cfg.gae_lambda)

    def learn(self, params, opt_state, key, mask, traj: Transition, final_obs, last_obs, update_index=0):
        """PPO update `update_index` from a rollout: epochs x minibatches of masked Adam steps."""
        cfg, mb_size = self.cfg, self.sizes.minibatch_size
        clip_eps = self.clip_at(update_index)
        advantages, targets = self.advantages(params, mask, traj, final_obs, last_obs)
        if cfg.normalize_advantages and cfg.advantage_norm == "batch":
            advantages = normalize_over_batch(advantages, step_weights(traj))
        n = traj.reward.shape[0] * traj.reward.shape[1]
        flat = jax.tree_util.tree_map(lambda x: x.reshape((n,) + x.shape[2:]), (traj, advantages, targets))

        def epoch(carry, _):
            params, opt_state, key = carry
            key, k_perm = jax.random.split(key)
            perm = permutation(k_perm, n)
            shuffled = jax.tree_util.tree_map(lambda x: x[perm].reshape((cfg.minibatches, mb_size) + x.shape[1:]), flat)

            def minibatch(carry, mb):
                params, opt_state = carry
                grads = jax.grad(self.loss)(params, mask, *mb, clip_eps)
                params, opt_state = masked_step(self.tx, grads, opt_state, params, mask)
                return (params, opt_state), None

            (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), shuffled)
            return (params, opt_state, key), None

        (params, opt_state, key), _ = jax.lax.scan(epoch, (params, opt_state, key), None, cfg.epochs)
        return params, opt_state, key

    def evaluate(self, key, params, mask):
        p = apply_mask(params, mask)
        act = policy_actor(self.head, lambda o: self.policy_out(p, o), self.eval_policy)
        return evaluate_episodes(key, act, self.spec, self.cfg.eval_episodes)

    def rollout(self, runner: Runner, mask):
        """`rollout_len` steps of every env: (runner, (Transition [T, E], final observations)).

        The scan carries only what a step changes; params are masked once and closed over, so the
        optimizer state and the tracked checkpoints are not threaded through every env step."""
        env, env_params, E = self.spec.env, self.spec.params, self.cfg.num_envs
        step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))
        p = apply_mask(runner.params, mask)

        def step(carry, _):
            env_state, obs, key, episode_return, interval = carry
            key, k_act, k_env = jax.random.split(key, 3)
            action, log_prob = self.act_masked(p, k_act, obs)
            next_obs, env_state, reward, terminated, truncated, info = step_env(
                jax.random.split(k_env, E), env_state, self.head.to_env(action), env_params)
            done = jnp.logical_or(terminated, truncated)
            bootstrap = jnp.logical_and(truncated, jnp.logical_not(terminated))
            transition = Transition(obs, action, log_prob, reward, done, bootstrap)
            episode_return, interval = count_episodes(episode_return, interval, reward, done)
            return (env_state, next_obs, key, episode_return, interval), (transition, info["final_observation"])

        carry = (runner.env_state, runner.obs, runner.key, runner.episode_return, runner.tracking.interval)
        (env_state, obs, key, episode_return, interval), out = jax.lax.scan(step, carry, None, self.cfg.rollout_len)
        runner = runner.replace(env_state=env_state, obs=obs, key=key, episode_return=episode_return,
                                tracking=runner.tracking.replace(interval=interval))
        return runner, out

    def first_runner(self, keys: RunKeys, start_params, mask) -> Runner:
        env, env_params, E = self.spec.env, self.spec.params, self.cfg.num_envs
        params = apply_mask(start_params, mask)
        k_reset, k_run = jax.random.split(keys.train)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, E), env_params)
        return Runner(params=params, opt_state=self.tx.init(params), env_state=env_state, obs=obs, key=k_run,
                      episode_return=jnp.zeros(E), tracking=fresh_tracking(params, self.sizes.cadence.num_evals))

    def train(self, keys: RunKeys, start_params, mask) -> TrainOutput:
        """One whole training run (pure; jit and vmap it)."""
        def body(runner: Runner, update_index):
            runner, (traj, final_obs) = self.rollout(runner, mask)
            params, opt_state, key = self.learn(runner.params, runner.opt_state, runner.key, mask, traj, final_obs,
                                                runner.obs, update_index)
            runner = runner.replace(params=params, opt_state=opt_state, key=key)
            runner = after_step(runner, update_index, self.sizes.cadence,
                                lambda k, r: self.evaluate(k, r.params, mask))
            return runner, None

        runner, _ = jax.lax.scan(body, self.first_runner(keys, start_params, mask), jnp.arange(self.sizes.num_updates))
        return train_output(runner)

    def batch_loss(self, key, data_key, params, mask):
        """The PPO loss on one fresh rollout of the masked params (for gradient-based scores); the
        rollout, advantages and old log-probabilities are data, not differentiated."""
        runner = self.first_runner(RunKeys(train=key, data=data_key), jax.lax.stop_gradient(params), mask)
        runner, (traj, final_obs) = self.rollout(runner, mask)
        advantages, targets = self.advantages(runner.params, mask, traj, final_obs, runner.obs)
        if self.cfg.normalize_advantages and self.cfg.advantage_norm == "batch":
            advantages = normalize_over_batch(advantages)
        flat = jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:]), (traj, advantages, targets))
        return self.loss(params, mask, *flat)


def build(cfg: ExperimentConfig, spec, expert=None) -> Agent:
    ppo = PPO(cfg, spec)
    jitted = spec.backend == "jax"
    return Agent(init=ppo.init, train=ppo.train if jitted else None, env_steps=ppo.sizes.env_steps,
                 rewind_update=ppo.sizes.cadence.rewind_step, batch_loss=ppo.batch_loss if jitted else None,
                 program=ppo)


def acting(cfg: ExperimentConfig, spec) -> Acting:
    actor, _ = networks(cfg, spec)
    head = head_for(spec)
    return Acting("actor", actor, head.mode, kind=head.name)


def validate(cfg: ExperimentConfig, spec) -> None:
    p = cfg.ppo
    check_fields_positive("ppo", p, ("total_steps", "num_envs", "rollout_len", "epochs", "minibatches", "eval_every",
                                     "eval_episodes", "lr", "clip_eps", "max_grad_norm"))
    if p.total_steps < p.num_envs * p.rollout_len:
        raise ConfigError("ppo.total-steps", f"must be >= num-envs * rollout-len = {p.num_envs * p.rollout_len}")
    if (p.num_envs * p.rollout_len) % p.minibatches:
        raise ConfigError("ppo.minibatches", f"must divide num-envs * rollout-len = {p.num_envs * p.rollout_len}")
    check_choice("ppo.lr-schedule", p.lr_schedule, ("constant", "linear"))
    check_choice("ppo.advantage-norm", p.advantage_norm, ADVANTAGE_NORMS)
    check_choice("ppo.clip-schedule", p.clip_schedule, ("constant", "linear"))
    for field in ("gamma", "gae_lambda"):
        if not 0.0 <= getattr(p, field) <= 1.0:
            raise ConfigError(f"ppo.{field.replace('_', '-')}", f"must be in [0, 1], got {getattr(p, field)}")
    for field in ("value_coef", "entropy_coef"):
        if getattr(p, field) < 0:
            raise ConfigError(f"ppo.{field.replace('_', '-')}", f"must be >= 0, got {getattr(p, field)}")
    check_positive("ppo.lr", p.lr)


AGENT = AgentDef(
    name="ppo", section="ppo", build=build, validate=validate, acting=acting,
    total_steps=lambda cfg: cfg.ppo.total_steps, scopes=("actor", "actor_critic"), eval_policies=EVAL_POLICIES,
)
