"""Soft actor-critic (Haarnoja et al., 2018: twin Q-functions, a tanh-squashed Gaussian policy with a
state-dependent standard deviation, the entropy temperature tuned to a target entropy of -|A|) as pure,
jit-compiled stages (agents/loop.py: `begin`, `advance` a segment of iterations, `end`), for
continuous actions.

Each iteration steps every env once with a draw of the policy (uniform random
actions before `learning_starts`), adds the transitions to a uniform replay buffer, and (once
learning has started) takes `updates_per_step` x num_envs gradient steps: the critics regress onto
r + gamma (1 - terminated) (min Q_target(s', a') - alpha log pi(a'|s')), a' ~ pi(s'); the actor
maximizes min Q(s, a) - alpha log pi(a|s); the temperature descends -log(alpha) (log pi + target).
Target critics follow by Polyak averaging. Evaluation acts with the squashed mean. As DQN, a program
trains one run (its buffer lives in the carry), vmapped over a block's runs.

Params are `{"actor": ..., "critic": {"q1": ..., "q2": ...}}`: `imp.scope actor` prunes the policy,
`actor_critic` both critics too; each module steps through its own masked Adam.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import flashbax
import jax
import jax.numpy as jnp
import optax
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef, with_one_run_envs
from ticketlab.agents.heads import HEADS
from ticketlab.agents.loop import Cadence, Stages, Tracking, after_step, fresh_tracking, runner_stages
from ticketlab.agents.output import RunKeys
from ticketlab.core.config import ExperimentConfig, SACConfig
from ticketlab.core.errors import ConfigError, check_fields_positive
from ticketlab.envs.encodings import encode, encoder_params
from ticketlab.networks.network import make_network
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
"""The range the actor's log standard deviation is squashed into (CleanRL's SAC)."""


@dataclass(frozen=True)
class SquashedGaussian:
    """A tanh-squashed Gaussian policy head: the network outputs [mean, raw log-std] (2 x |A|); the
    action is low + (tanh(u) + 1) / 2 * (high - low), u ~ N(mean, std)."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    name: ClassVar[str] = "squashed_gaussian"
    policy: ClassVar[bool] = True
    gaussian: ClassVar[bool] = False
    eval_epsilon: ClassVar[float] = 0.0
    data_epsilon: ClassVar[float] = 0.0

    @classmethod
    def for_spec(cls, spec, **_) -> SquashedGaussian:
        return cls(tuple(spec.action_low), tuple(spec.action_high))

    @property
    def num_outputs(self) -> int:
        return 2 * len(self.low)

    def split(self, out):
        """(mean, log_std) of a network output."""
        mean, raw = jnp.split(out, 2, axis=-1)
        return mean, LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (jnp.tanh(raw) + 1.0)

    def scale(self, squashed):
        low, high = jnp.asarray(self.low), jnp.asarray(self.high)
        return low + 0.5 * (squashed + 1.0) * (high - low)

    def sample(self, key, out):
        """(env action, log pi(action)) of one draw; the log-probability of the tanh-squashed draw,
        change of variables included (the constant scaling's Jacobian cancels in every loss)."""
        mean, log_std = self.split(out)
        u = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
        gaussian = -0.5 * (((u - mean) / jnp.exp(log_std)) ** 2 + 2.0 * log_std + jnp.log(2.0 * jnp.pi))
        correction = 2.0 * (jnp.log(2.0) - u - jax.nn.softplus(-2.0 * u))  # log(1 - tanh(u)^2), stably
        return self.scale(jnp.tanh(u)), jnp.sum(gaussian - correction, axis=-1)

    def greedy(self, out):
        return self.scale(jnp.tanh(self.split(out)[0]))

    def to_env(self, action):
        return action

    def behave(self, key, out):
        return self.sample(key, out)[0]

    def actor(self, out_fn: Callable, policy: str = "greedy"):
        def act(step_key, obs):
            if policy == "greedy":
                return self.greedy(out_fn(obs)), step_key
            step_key, k_act = jax.random.split(step_key)
            return self.sample(k_act, out_fn(obs))[0], step_key

        return act


HEADS.register(SquashedGaussian.name, SquashedGaussian)


class Transition(struct.PyTreeNode):
    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    discount: jax.Array
    """0 where the episode terminated (no bootstrap), 1 otherwise (time-limit truncation included)."""
    next_obs: jax.Array


class Runner(struct.PyTreeNode):
    params: Any
    target: Any
    """The target critics (Polyak averages of the masked critics)."""
    log_alpha: jax.Array
    opt_state: Any
    buffer: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array
    tracking: Tracking


@dataclass(frozen=True)
class Schedule:
    num_iterations: int
    first_update: int
    updates_per_iteration: int
    env_steps: int
    cadence: Cadence


def schedule(cfg: SACConfig, rewind_steps: int = 0) -> Schedule:
    """Static sizes of one training run: an iteration steps every env once."""
    iterations = cfg.total_steps // cfg.num_envs
    return Schedule(
        num_iterations=iterations,
        first_update=-(-cfg.learning_starts // cfg.num_envs),
        updates_per_iteration=cfg.updates_per_step * cfg.num_envs,
        env_steps=iterations * cfg.num_envs,
        cadence=Cadence(iterations, cfg.eval_every, rewind_steps // cfg.num_envs),
    )


def networks(cfg: ExperimentConfig, spec):
    """(actor, critic): the policy network ([mean, log-std]) and one Q-network of (observation, action)."""
    n, head = cfg.network, SquashedGaussian.for_spec(spec)
    actor = make_network(
        hidden=n.actor_hidden,
        out=head.num_outputs,
        obs_shape=spec.obs_shape,
        activation=n.activation,
        scheme=cfg.init.scheme,
        input_scale=cfg.init.input_scale,
        is_policy=True,
    )
    critic = make_network(
        hidden=n.critic_hidden,
        out=1,
        obs_shape=(spec.obs_shape[0] + spec.action_dim,),
        activation=n.activation,
        scheme=cfg.init.scheme,
        input_scale=cfg.init.input_scale,
    )
    return actor, critic


class SAC:
    """The pieces of one SAC configuration."""

    def __init__(self, cfg: ExperimentConfig, spec):
        self.cfg, self.spec = cfg.sac, spec
        self.actor, self.critic = networks(cfg, spec)
        self.head = SquashedGaussian.for_spec(spec)
        self.sizes = schedule(cfg.sac, cfg.imp.rewind_steps)
        self.target_entropy = -float(spec.action_dim) if cfg.sac.target_entropy is None else cfg.sac.target_entropy
        self.buffer = flashbax.make_item_buffer(
            max_length=cfg.sac.buffer_size,
            min_length=cfg.sac.batch_size,
            sample_batch_size=cfg.sac.batch_size,
            add_batches=True,
        )
        self.tx_actor = adam(cfg.sac.lr, weight_decay=cfg.network.weight_decay)
        self.tx_critic = adam(cfg.sac.critic_lr, weight_decay=cfg.network.weight_decay)
        self.tx_alpha = optax.adam(cfg.sac.critic_lr)

    def init(self, key):
        k_actor, k_q1, k_q2 = jax.random.split(key, 3)
        obs = jnp.zeros((1,) + tuple(self.spec.obs_shape), jnp.float32)
        pair = jnp.zeros((1, self.spec.obs_shape[0] + self.spec.action_dim), jnp.float32)
        return {
            "actor": self.actor.init(k_actor, obs)["params"],
            "critic": {"q1": self.critic.init(k_q1, pair)["params"], "q2": self.critic.init(k_q2, pair)["params"]},
        }

    def policy_out(self, params, enc, obs):
        return self.actor.apply({"params": params["actor"]}, encode(self.spec.encoder, enc, obs))

    def q_values(self, critic, enc, obs, action):
        """(Q1, Q2) of (observation, action) pairs."""
        pair = jnp.concatenate([encode(self.spec.encoder, enc, obs).reshape(obs.shape[0], -1), action], axis=-1)
        return tuple(self.critic.apply({"params": critic[q]}, pair)[..., 0] for q in ("q1", "q2"))

    def critic_loss(self, critic, target, params, mask, enc, log_alpha, batch: Transition, key):
        p = apply_mask(params, mask)
        next_action, next_log_prob = self.head.sample(key, self.policy_out(p, enc, batch.next_obs))
        next_q = jnp.minimum(*self.q_values(target, enc, batch.next_obs, next_action))
        soft = next_q - jnp.exp(log_alpha) * next_log_prob
        y = jax.lax.stop_gradient(batch.reward + self.cfg.gamma * batch.discount * soft)
        q1, q2 = self.q_values(apply_mask(critic, mask["critic"]), enc, batch.obs, batch.action)
        return 0.5 * (jnp.mean((q1 - y) ** 2) + jnp.mean((q2 - y) ** 2))

    def actor_loss(self, actor, params, mask, enc, log_alpha, obs, key):
        p = apply_mask({**params, "actor": actor}, mask)
        action, log_prob = self.head.sample(key, self.policy_out(p, enc, obs))
        q = jnp.minimum(*self.q_values(p["critic"], enc, obs, action))
        return jnp.mean(jnp.exp(log_alpha) * log_prob - q), log_prob

    def update(self, runner: Runner, mask, enc) -> Runner:
        """One gradient step of the critics, the actor and the temperature, then the targets' Polyak step."""
        cfg = self.cfg
        key, k_sample, k_critic, k_actor = jax.random.split(runner.key, 4)
        batch = self.buffer.sample(runner.buffer, k_sample).experience
        params, (opt_actor, opt_critic, opt_alpha) = runner.params, runner.opt_state
        grads = jax.grad(self.critic_loss)(
            params["critic"], runner.target, params, mask, enc, runner.log_alpha, batch, k_critic
        )
        critic, opt_critic = masked_step(self.tx_critic, grads, opt_critic, params["critic"], mask["critic"])
        params = {**params, "critic": critic}
        grads, log_prob = jax.grad(self.actor_loss, has_aux=True)(
            params["actor"], params, mask, enc, runner.log_alpha, batch.obs, k_actor
        )
        actor, opt_actor = masked_step(self.tx_actor, grads, opt_actor, params["actor"], mask["actor"])
        params = {**params, "actor": actor}
        entropy_gap = jax.lax.stop_gradient(log_prob + self.target_entropy)
        alpha_grad = jax.grad(lambda a: -jnp.mean(a * entropy_gap))(runner.log_alpha)
        step, opt_alpha = self.tx_alpha.update(alpha_grad, opt_alpha)
        target = optax.incremental_update(apply_mask(critic, mask["critic"]), runner.target, cfg.tau)
        return runner.replace(
            params=params,
            target=target,
            log_alpha=runner.log_alpha + step,
            opt_state=(opt_actor, opt_critic, opt_alpha),
            key=key,
        )

    def collect(self, envs, runner: Runner, mask, enc, explore):
        """One step of every env: a draw of the policy, or (`explore`, before learning) uniform random
        actions. Returns (runner, Transition [E])."""
        key, k_act, k_random, k_env = jax.random.split(runner.key, 4)
        drawn, _ = self.head.sample(k_act, self.policy_out(apply_mask(runner.params, mask), enc, runner.obs))
        low, high = jnp.asarray(self.head.low), jnp.asarray(self.head.high)
        uniform = jax.random.uniform(k_random, drawn.shape, minval=low, maxval=high)
        action = jnp.where(explore, uniform, drawn)
        env_state, out = envs.step(runner.env_state, k_env, action)
        transition = Transition(
            obs=runner.obs,
            action=action,
            reward=out.reward.astype(jnp.float32),
            discount=1.0 - out.terminated.astype(jnp.float32),
            next_obs=out.final_obs,
        )
        tracking = runner.tracking.replace(
            interval=runner.tracking.interval.add(out.finished_total, out.finished_count)
        )
        return runner.replace(env_state=env_state, obs=out.obs, key=key, tracking=tracking), transition

    def evaluate(self, envs, key, params, mask, enc=None, env_state=None):
        """(env_state, the mean return of `eval-episodes` episodes acting with the squashed mean)."""
        policy = lambda p, k, o: self.head.actor(lambda x: self.policy_out(p, enc, x))(k, o)  # noqa: E731
        return envs.evaluate(env_state, key, policy, apply_mask(params, mask))

    def evaluate_runner(self, envs, mask, enc, key, runner: Runner):
        env_state, ret = self.evaluate(envs, key, runner.params, mask, enc, runner.env_state)
        return runner.replace(env_state=env_state), ret

    def first_runner(self, envs, keys: RunKeys, start_params, mask) -> Runner:
        params = apply_mask(start_params, mask)
        k_reset, k_run = jax.random.split(keys.train)
        env_state, obs = envs.reset(k_reset)
        example = Transition(
            obs=obs[0],
            action=jnp.zeros(self.spec.action_dim),
            reward=jnp.zeros(()),
            discount=jnp.zeros(()),
            next_obs=obs[0],
        )
        opt_state = (
            self.tx_actor.init(params["actor"]),
            self.tx_critic.init(params["critic"]),
            self.tx_alpha.init(jnp.zeros(())),
        )
        return Runner(
            params=params,
            target=params["critic"],
            log_alpha=jnp.log(jnp.asarray(self.cfg.init_alpha)),
            opt_state=opt_state,
            buffer=self.buffer.init(example),
            env_state=env_state,
            obs=obs,
            key=k_run,
            tracking=fresh_tracking(params, self.sizes.cadence.num_evals),
        )

    def step(self, envs, keys: RunKeys, mask):
        """`iterate(iteration, runner) -> runner`: one step of every env into the buffer, then
        `updates_per_iteration` updates once learning has started, the rewind capture and evaluation."""
        sizes = self.sizes
        enc = encoder_params(self.spec.encoder, keys.data)

        def iterate(iteration, runner: Runner):
            runner, transition = self.collect(envs, runner, mask, enc, iteration < sizes.first_update)
            runner = runner.replace(buffer=self.buffer.add(runner.buffer, transition))

            def learn(runner):
                return jax.lax.fori_loop(0, sizes.updates_per_iteration, lambda _, r: self.update(r, mask, enc), runner)

            runner = jax.lax.cond(iteration >= sizes.first_update, learn, lambda r: r, runner)
            return after_step(runner, iteration, sizes.cadence, partial(self.evaluate_runner, envs, mask, enc))

        return iterate

    @property
    def stages(self) -> Stages:
        return runner_stages(self.first_runner, self.step, self.sizes.num_iterations)

    def batch_loss(self, envs, key, data_key, params, mask):
        """The critics' loss on the transitions of one step of every env under the policy, the params
        their own targets (for gradient-based pruning scores)."""
        enc = encoder_params(self.spec.encoder, data_key)
        runner = self.first_runner(envs, RunKeys(train=key, data=data_key), jax.lax.stop_gradient(params), mask)
        _, batch = self.collect(envs, runner, mask, enc, False)
        return self.critic_loss(params["critic"], runner.target, params, mask, enc, runner.log_alpha, batch, key)


def build(cfg: ExperimentConfig, spec, expert=None) -> Agent:
    sac = SAC(cfg, spec)
    return Agent(
        init=sac.init,
        train=sac.stages.train,
        env_steps=sac.sizes.env_steps,
        rewind_update=sac.sizes.cadence.rewind_step,
        batch_loss=with_one_run_envs(sac.batch_loss, spec, cfg.sac),
        program=sac,
        num_envs=cfg.sac.num_envs,
        eval_episodes=cfg.sac.eval_episodes,
        stages=sac.stages,
    )


def acting(cfg: ExperimentConfig, spec) -> Acting:
    return Acting("actor", networks(cfg, spec)[0], SquashedGaussian.for_spec(spec))


def validate(cfg: ExperimentConfig, spec) -> None:
    s = cfg.sac
    check_fields_positive(
        "sac",
        s,
        (
            "total_steps",
            "num_envs",
            "buffer_size",
            "batch_size",
            "updates_per_step",
            "eval_every",
            "eval_episodes",
            "lr",
            "critic_lr",
            "init_alpha",
        ),
    )
    if spec.discrete:
        raise ConfigError("algo", f"sac needs continuous actions; {spec.id} has discrete ones (use dqn or ppo)")
    if len(spec.obs_shape) != 1:
        raise ConfigError("algo", f"sac's critics read flat observations; {spec.id} has shape {spec.obs_shape}")
    for field in ("gamma", "tau"):
        if not 0.0 < getattr(s, field) <= 1.0:
            raise ConfigError(f"sac.{field}", f"must be in (0, 1], got {getattr(s, field)}")
    if s.buffer_size < s.batch_size:
        raise ConfigError("sac.buffer-size", f"must be >= batch-size ({s.batch_size}), got {s.buffer_size}")
    if not s.batch_size <= s.learning_starts < s.total_steps:
        raise ConfigError(
            "sac.learning-starts",
            f"must be in [batch-size, total-steps) = [{s.batch_size}, {s.total_steps}), got {s.learning_starts}",
        )


AGENT = AgentDef(
    name="sac",
    section="sac",
    build=build,
    validate=validate,
    acting=acting,
    total_steps=lambda cfg: cfg.sac.total_steps,
    scopes=("actor", "actor_critic"),
    applies_encoders=True,
    teaches=False,  # (no distillation loss distils a squashed Gaussian)
)
