"""PPO with a categorical or Gaussian policy head as pure, jit-compiled stages (agents/loop.py:
`begin`, `advance` a segment of updates, `end`), written once for every backend.

Rollouts, GAE, the clipped-surrogate update and evaluation all run inside one loop over
updates; `envs` (envs/stepping.py) steps the environments, inside the program (gymnax: the
program trains one run and is vmapped over a block's runs) or as effects (host, ale: the program
trains a whole block, each per-run piece lifted by `envs.runs`). The training function never knows
the IMP condition: conditions only choose (start_params, mask).

Observations reach the networks through the environment's encoder, when it has one (ALE frames
/ 255; MazeGrid's rgb and entangled encodings). Under next-step autoreset (ALE) a truncated step's
final observation is the next step's, and the steps that only reset a game are left out of the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef, on_backends, with_one_run_envs
from ticketlab.agents.gae import gae
from ticketlab.agents.heads import EVAL_POLICIES, head_for
from ticketlab.agents.loop import Cadence, Stages, Tracking, after_step, fresh_tracking, runner_stages, split2
from ticketlab.agents.output import RunKeys
from ticketlab.agents.shuffle import permutation
from ticketlab.core.config import ExperimentConfig, PPOConfig
from ticketlab.core.errors import ConfigError, check_choice, check_fields_positive, check_positive
from ticketlab.envs.base import BLOCK, PER_RUN
from ticketlab.envs.encodings import encode, encoder_params
from ticketlab.networks.network import make_network
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


class Transition(struct.PyTreeNode):
    obs: jax.Array
    action: jax.Array
    """The sampled action (a Gaussian draw before clipping to the bounds)."""
    log_prob: jax.Array
    reward: jax.Array
    done: jax.Array
    bootstrap: jax.Array
    """True on truncated, non-terminal steps: their return bootstraps from V(final observation)."""
    valid: Any = None
    """None, or False on the steps that only reset an ended environment: left out of the loss."""


class Runner(struct.PyTreeNode):
    params: Any
    opt_state: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array
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
    return Schedule(
        num_updates=num_updates,
        env_steps=num_updates * batch,
        minibatch_size=batch // cfg.minibatches,
        cadence=Cadence(num_updates, cfg.eval_every, rewind_steps // batch),
    )


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
    `valid` field: steps that are not an environment's autoreset)."""
    if weights is None:
        return lambda x: x.mean()
    w = weights.astype(jnp.float32)
    n = jnp.maximum(w.sum(), 1.0)
    return lambda x: (x * w).sum() / n


def step_weights(batch):
    """The `valid` field of a rollout (None: every step counts)."""
    return batch.valid


def networks(cfg: ExperimentConfig, spec):
    """(actor, critic) of a config: separate networks, layers named as in `make_network`."""
    head = head_for(spec)
    common = dict(
        obs_shape=spec.obs_shape,
        activation=cfg.network.activation,
        scheme=cfg.init.scheme,
        input_scale=cfg.init.input_scale,
        torso=cfg.network.torso,
        image_layout=spec.image_layout,
    )
    actor = make_network(
        hidden=cfg.network.actor_hidden,
        out=head.num_outputs,
        is_policy=True,
        gaussian=head.gaussian,
        log_std_init=cfg.network.log_std_init,
        mean_activation=cfg.network.mean_activation,
        **common,
    )
    if cfg.init.input_scale_modules == "pruned" and cfg.imp.scope == "actor":
        common = dict(common, input_scale=1.0)  # the critic is not pruned: it keeps its plain init
    critic = make_network(hidden=cfg.network.critic_hidden, out=1, is_policy=False, **common)
    return actor, critic


class PPO:
    """The pieces of one PPO configuration: acting, the loss, learning from a rollout, the loop."""

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
        return {
            "actor": self.actor.init(k_actor, dummy)["params"],
            "critic": self.critic.init(k_critic, dummy)["params"],
        }

    def policy_out(self, params, enc, obs):
        return self.actor.apply({"params": params["actor"]}, encode(self.spec.encoder, enc, obs))

    def value(self, params, enc, obs):
        return self.critic.apply({"params": params["critic"]}, encode(self.spec.encoder, enc, obs))[..., 0]

    def act_masked(self, p, enc, k_act, obs):
        """(action, log_prob) of params the mask is already applied to. (Values are not needed while
        acting: the params do not change during a rollout, so `advantages` evaluates the critic on
        the whole rollout at once.)"""
        dist = self.head.distribution(self.policy_out(p, enc, obs))
        action = dist.sample(seed=k_act)
        return action, dist.log_prob(action)

    def clip_at(self, update_index):
        """The ratio clip of update `update_index` (0-based; a Python int or a traced one). linear:
        rlpyt's, which sets clip-eps * (n - k) / n after update k, so update u clips at
        clip-eps * (n - max(u - 1, 0)) / n."""
        if self.cfg.clip_schedule == "linear":
            return self.cfg.clip_eps * (1.0 - jnp.maximum(update_index - 1, 0) / self.sizes.num_updates)
        return self.cfg.clip_eps

    def loss(self, params, mask, enc, batch: Transition, advantages, targets, clip_eps=None):
        cfg = self.cfg
        clip_eps = cfg.clip_eps if clip_eps is None else clip_eps
        p = apply_mask(params, mask)
        dist = self.head.distribution(self.policy_out(p, enc, batch.obs))
        log_prob = dist.log_prob(batch.action)
        value = self.value(p, enc, batch.obs)
        weights = step_weights(batch)
        mean = step_mean(weights)
        if cfg.normalize_advantages and cfg.advantage_norm == "minibatch":
            if weights is None:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            else:
                centred = advantages - mean(advantages)
                advantages = centred / (jnp.sqrt(mean(centred**2)) + 1e-8)
        ratio = jnp.exp(log_prob - batch.log_prob)
        clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
        policy_loss = -mean(jnp.minimum(ratio * advantages, clipped * advantages))
        value_loss = 0.5 * mean((value - targets) ** 2)
        entropy = mean(dist.entropy())
        return policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy

    def advantages(self, params, mask, enc, traj: Transition, final_obs, last_obs):
        """GAE advantages and value targets of a time-major rollout [T, E]; truncated steps
        bootstrap from the value of their final observation, terminated ones do not. The critic
        sees every observation of the rollout, the final ones and the last in one batch; under
        next-step autoreset (`final_obs` None) a step's final observation is the next step's
        observation (or `last_obs`), so each observation is valued once."""
        p = apply_mask(params, mask)
        T, E = traj.reward.shape
        flat = lambda x: x.reshape((T * E,) + x.shape[2:])  # noqa: E731
        gamma, lam = self.cfg.gamma, self.cfg.gae_lambda
        if final_obs is None:
            values = self.value(p, enc, jnp.concatenate([flat(traj.obs), last_obs])).reshape(T + 1, E)
            rewards = traj.reward + gamma * values[1:] * traj.bootstrap
            return gae(rewards, values[:-1], traj.done, values[-1], gamma, lam)
        values = self.value(p, enc, jnp.concatenate([flat(traj.obs), flat(final_obs), last_obs]))
        step_values = values[: T * E].reshape(T, E)
        final_values = values[T * E : 2 * T * E].reshape(T, E)
        rewards = traj.reward + gamma * final_values * traj.bootstrap
        return gae(rewards, step_values, traj.done, values[2 * T * E :], gamma, lam)

    def learn(self, params, opt_state, key, mask, enc, traj: Transition, final_obs, last_obs, update_index=0):
        """PPO update `update_index` from a rollout: epochs x minibatches of masked Adam steps."""
        cfg, mb_size = self.cfg, self.sizes.minibatch_size
        clip_eps = self.clip_at(update_index)
        advantages, targets = self.advantages(params, mask, enc, traj, final_obs, last_obs)
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
                grads = jax.grad(self.loss)(params, mask, enc, *mb, clip_eps)
                params, opt_state = masked_step(self.tx, grads, opt_state, params, mask)
                return (params, opt_state), None

            (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), shuffled)
            return (params, opt_state, key), None

        (params, opt_state, key), _ = jax.lax.scan(epoch, (params, opt_state, key), None, cfg.epochs)
        return params, opt_state, key

    def policy(self, p_enc, step_key, obs):
        """The evaluation policy of (masked params, encoder params): its mode or a draw."""
        p, enc = p_enc
        return self.head.actor(lambda o: self.policy_out(p, enc, o), self.eval_policy)(step_key, obs)

    def evaluate(self, envs, key, params, mask, enc=None, env_state=None):
        """(env_state, each run's mean return of `eval-episodes` evaluation episodes of `params`)."""
        return envs.evaluate(env_state, key, self.policy, (envs.runs(apply_mask)(params, mask), enc))

    def evaluate_runner(self, envs, mask, enc, key, runner: Runner):
        env_state, ret = self.evaluate(envs, key, runner.params, mask, enc, runner.env_state)
        return runner.replace(env_state=env_state), ret

    def rollout(self, envs, runner: Runner, mask, enc):
        """`rollout_len` steps of every env: (runner, (Transition [T, E], final observations)), per run.

        The scan carries only what a step changes; params are masked once and closed over, so the
        optimizer state and the tracked checkpoints are not threaded through every env step."""
        runs = envs.runs
        p = runs(apply_mask)(runner.params, mask)
        act, to_env, add = runs(self.act_masked), runs(self.head.to_env), runs(lambda i, t, c: i.add(t, c))

        def step(carry, _):
            env_state, obs, key, interval = carry
            key, k_act, k_env = runs(lambda k: tuple(jax.random.split(k, 3)))(key)
            action, log_prob = act(p, enc, k_act, obs)
            env_state, out = envs.step(env_state, k_env, to_env(action))
            done = jnp.logical_or(out.terminated, out.truncated)
            bootstrap = jnp.logical_and(out.truncated, jnp.logical_not(out.terminated))
            transition = Transition(obs, action, log_prob, out.reward, done, bootstrap, out.valid)
            interval = add(interval, out.finished_total, out.finished_count)
            return (env_state, out.obs, key, interval), (transition, out.final_obs)

        carry = (runner.env_state, runner.obs, runner.key, runner.tracking.interval)
        (env_state, obs, key, interval), out = jax.lax.scan(step, carry, None, self.cfg.rollout_len)
        runner = runner.replace(
            env_state=env_state, obs=obs, key=key, tracking=runner.tracking.replace(interval=interval)
        )
        return runner, envs.by_run(out)

    def first_runner(self, envs, keys: RunKeys, start_params, mask) -> Runner:
        runs = envs.runs
        params = runs(apply_mask)(start_params, mask)
        k_reset, k_run = runs(split2)(keys.train)
        env_state, obs = envs.reset(k_reset)
        return Runner(
            params=params,
            opt_state=runs(self.tx.init)(params),
            env_state=env_state,
            obs=obs,
            key=k_run,
            tracking=runs(lambda p: fresh_tracking(p, self.sizes.cadence.num_evals))(params),
        )

    def step(self, envs, keys: RunKeys, mask):
        """`update(update_index, runner) -> runner`: one rollout and its epochs of minibatches, then
        the rewind capture and evaluation (after_step)."""
        runs = envs.runs
        enc = runs(partial(encoder_params, self.spec.encoder))(keys.data)
        learn = runs(self.learn, in_axes=(0,) * 8 + (None,))  # the update index is shared

        def update(update_index, runner: Runner):
            runner, (traj, final_obs) = self.rollout(envs, runner, mask, enc)
            params, opt_state, key = learn(
                runner.params, runner.opt_state, runner.key, mask, enc, traj, final_obs, runner.obs, update_index
            )
            runner = runner.replace(params=params, opt_state=opt_state, key=key)
            return after_step(
                runner, update_index, self.sizes.cadence, partial(self.evaluate_runner, envs, mask, enc), runs
            )

        return update

    @property
    def stages(self) -> Stages:
        return runner_stages(self.first_runner, self.step, self.sizes.num_updates)

    def batch_obs(self, envs, key, data_key, params, mask):
        """The observations of one fresh rollout of the masked params, as the networks see them."""
        enc = encoder_params(self.spec.encoder, data_key)
        runner = self.first_runner(envs, RunKeys(train=key, data=data_key), params, mask)
        _, (traj, _) = self.rollout(envs, runner, mask, enc)
        return encode(self.spec.encoder, enc, traj.obs.reshape((-1,) + traj.obs.shape[2:]))

    def modules(self):
        return {
            "actor": lambda p, x: self.actor.apply({"params": p}, x),
            "critic": lambda p, x: self.critic.apply({"params": p}, x),
        }

    def batch_loss(self, envs, key, data_key, params, mask):
        """The PPO loss on one fresh rollout of the masked params (for gradient-based scores); the
        rollout, advantages and old log-probabilities are data, not differentiated. One run's
        (`envs` of a backend that steps one run)."""
        enc = encoder_params(self.spec.encoder, data_key)
        runner = self.first_runner(envs, RunKeys(train=key, data=data_key), jax.lax.stop_gradient(params), mask)
        runner, (traj, final_obs) = self.rollout(envs, runner, mask, enc)
        advantages, targets = self.advantages(runner.params, mask, enc, traj, final_obs, runner.obs)
        if self.cfg.normalize_advantages and self.cfg.advantage_norm == "batch":
            advantages = normalize_over_batch(advantages)
        flat = jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:]), (traj, advantages, targets))
        return self.loss(params, mask, enc, *flat)


def build(cfg: ExperimentConfig, spec, expert=None) -> Agent:
    ppo = PPO(cfg, spec)
    return Agent(
        init=ppo.init,
        train=ppo.stages.train,
        env_steps=ppo.sizes.env_steps,
        rewind_update=ppo.sizes.cadence.rewind_step,
        batch_loss=with_one_run_envs(ppo.batch_loss, spec, cfg.ppo),
        batch_obs=with_one_run_envs(ppo.batch_obs, spec, cfg.ppo),
        modules=ppo.modules(),
        program=ppo,
        num_envs=cfg.ppo.num_envs,
        eval_episodes=cfg.ppo.eval_episodes,
        stages=ppo.stages,
    )


def acting(cfg: ExperimentConfig, spec) -> Acting:
    actor, _ = networks(cfg, spec)
    return Acting("actor", actor, head_for(spec))


def validate(cfg: ExperimentConfig, spec) -> None:
    p = cfg.ppo
    check_fields_positive(
        "ppo",
        p,
        (
            "total_steps",
            "num_envs",
            "rollout_len",
            "epochs",
            "minibatches",
            "eval_every",
            "eval_episodes",
            "lr",
            "clip_eps",
            "max_grad_norm",
        ),
    )
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
    name="ppo",
    section="ppo",
    build=build,
    validate=validate,
    acting=acting,
    total_steps=lambda cfg: cfg.ppo.total_steps,
    scopes=("actor", "actor_critic"),
    eval_policies=EVAL_POLICIES,
    trainers=on_backends(PER_RUN, BLOCK),
    applies_encoders=True,
    width_fields=("actor_hidden", "critic_hidden"),
)
