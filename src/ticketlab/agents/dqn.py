"""DQN (Mnih et al., 2015) with double-Q targets (van Hasselt et al., 2016) and prioritized replay
(Schaul et al., 2016) as pure, jit-compiled stages (agents/loop.py: `begin`, `advance` a segment
of iterations, `end`).

Each iteration steps `num_envs` environments for batch_size / replay_ratio env
steps with an epsilon-greedy policy, adds the transitions to the replay buffer, and (once
`learning_starts` steps are in) takes one Adam step on a prioritized batch with the Huber loss and
importance weights, then writes the new |TD error| priorities. The target network is a hard copy
every `target_update_every` updates. `jax.vmap` over the stages runs a block's (seed, condition)
runs in one compiled call; the iteration index is the loop's unbatched counter, so the
learn / target-copy / evaluate branches stay real branches under vmap.

Params are `{"q": ...}`; the mask is applied in every forward pass and after every optimizer step.
Actions are the Q-value head's (agents/heads.py): epsilon-greedy while collecting, with the
evaluation epsilon when evaluated. A program trains one run (its replay buffer lives in the
program's carry), so DQN runs on the backends that step one run (gymnax).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef, with_one_run_envs
from ticketlab.agents.heads import QValues, epsilon_greedy
from ticketlab.agents.loop import Cadence, Stages, Tracking, after_step, fresh_tracking, runner_stages
from ticketlab.agents.output import RunKeys
from ticketlab.agents.replay import Transition, importance_weights, make_buffer, new_priorities, observation_compactor
from ticketlab.core.config import DQNConfig, ExperimentConfig
from ticketlab.core.errors import ConfigError, check_choice, check_fields_positive
from ticketlab.envs.encodings import encode, encoder_params
from ticketlab.networks.network import make_network
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


class Runner(struct.PyTreeNode):
    params: Any
    target: Any
    opt_state: Any
    buffer: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array
    tracking: Tracking


@dataclass(frozen=True)
class Schedule:
    steps_per_iteration: int
    rollout_len: int
    num_iterations: int
    first_update: int
    num_updates: int
    env_steps: int
    cadence: Cadence


def schedule(cfg: DQNConfig, rewind_steps: int = 0) -> Schedule:
    """Static sizes of one training run."""
    per_iteration = cfg.batch_size // cfg.replay_ratio
    num_iterations = cfg.total_steps // per_iteration
    start = -(-cfg.learning_starts // per_iteration)
    return Schedule(
        steps_per_iteration=per_iteration,
        rollout_len=per_iteration // cfg.num_envs,
        num_iterations=num_iterations,
        first_update=start,
        num_updates=max(num_iterations - start, 0),
        env_steps=num_iterations * per_iteration,
        cadence=Cadence(num_iterations, cfg.eval_every, rewind_steps // per_iteration),
    )


EPS_ANNEAL_FROM = ("start", "learning")
PRIORITY_RULES = ("schaul", "rlpyt")


def epsilon(cfg: DQNConfig, env_step):
    """Linear annealing from eps_start to eps_final over eps_anneal_steps, then constant; from env
    step 0, or (eps_anneal_from "learning", rlpyt's) held at eps_start until learning_starts."""
    if cfg.eps_anneal_from == "learning":
        env_step = jnp.maximum(env_step - cfg.learning_starts, 0)
    frac = jnp.clip(env_step / max(cfg.eps_anneal_steps, 1), 0.0, 1.0)
    return cfg.eps_start + frac * (cfg.eps_final - cfg.eps_start)


def priority_beta(cfg: DQNConfig, update, num_updates: int):
    """Linear annealing of the importance-weight exponent over the run's updates."""
    frac = jnp.clip(update / max(num_updates - 1, 1), 0.0, 1.0)
    return cfg.priority_beta_start + frac * (cfg.priority_beta_final - cfg.priority_beta_start)


def td_targets(q_next_online, q_next_target, reward, discount, gamma: float, double_q: bool):
    """r + gamma * discount * Q_target(s', a*), a* = argmax_a Q_online(s', a) (double Q) or
    argmax_a Q_target(s', a) (vanilla)."""
    chooser = q_next_online if double_q else q_next_target
    best = jnp.argmax(chooser, axis=-1)
    next_value = jnp.take_along_axis(q_next_target, best[..., None], axis=-1)[..., 0]
    return reward + gamma * discount * next_value


def q_network(cfg: ExperimentConfig, spec):
    n = cfg.network
    return make_network(
        hidden=n.q_hidden,
        out=spec.num_actions,
        obs_shape=spec.obs_shape,
        activation=n.activation,
        scheme=cfg.init.scheme,
        input_scale=cfg.init.input_scale,
        is_policy=False,
        torso=n.torso,
        image_layout=spec.image_layout,
        dropout=n.dropout,
    )


class DQN:
    """The pieces of one DQN configuration."""

    def __init__(self, cfg: ExperimentConfig, spec):
        self.cfg, self.spec = cfg.dqn, spec
        self.qnet = q_network(cfg, spec)
        self.head = QValues(spec.num_actions, eval_epsilon=cfg.dqn.eps_eval)
        self.sizes = schedule(cfg.dqn, cfg.imp.rewind_steps)
        self.pack, self.unpack = observation_compactor(spec)
        rlpyt = cfg.dqn.priority_rule == "rlpyt"  # new at delta-clip, |TD| clamped to [0, delta-clip]
        self.priority_clip = cfg.dqn.huber_delta if rlpyt else None
        self.buffer = make_buffer(
            cfg.dqn.buffer_size, cfg.dqn.batch_size, cfg.dqn.priority_alpha, new_priority=self.priority_clip
        )
        self.tx = adam(cfg.dqn.lr, cfg.dqn.max_grad_norm, cfg.network.weight_decay, eps=cfg.dqn.adam_eps)

    def init(self, key):
        return {"q": self.qnet.init(key, jnp.zeros((1,) + tuple(self.spec.obs_shape), jnp.float32))["params"]}

    def q_values(self, params, enc, obs, train=False, key=None):
        x = encode(self.spec.encoder, enc, obs)
        if train and self.qnet.dropout > 0.0:
            return self.qnet.apply({"params": params["q"]}, x, train=True, rngs={"dropout": key})
        return self.qnet.apply({"params": params["q"]}, x)

    def loss(self, params, target, mask, enc, batch: Transition, weights, key):
        cfg = self.cfg
        p = apply_mask(params, mask)
        obs, next_obs = self.unpack(batch.obs), self.unpack(batch.next_obs)
        q = self.q_values(p, enc, obs, train=True, key=key)
        q_taken = jnp.take_along_axis(q, batch.action[:, None], axis=-1)[:, 0]
        q_next_online = self.q_values(p, enc, next_obs) if cfg.double_q else None
        y = td_targets(
            q_next_online, self.q_values(target, enc, next_obs), batch.reward, batch.discount, cfg.gamma, cfg.double_q
        )
        td = q_taken - jax.lax.stop_gradient(y)
        loss = jnp.mean(weights * optax.huber_loss(td, delta=cfg.huber_delta))
        return loss, td

    def collect(self, envs, runner: Runner, p, enc, eps, steps: int):
        """`steps` epsilon-greedy steps of every env: (runner, Transition [steps, E])."""
        num_actions = self.spec.num_actions

        def step(carry, _):
            env_state, obs, key, interval = carry
            key, k_explore, k_random, k_env = jax.random.split(key, 4)
            action = epsilon_greedy(k_explore, k_random, self.q_values(p, enc, obs), eps, num_actions)
            env_state, out = envs.step(env_state, k_env, action)
            transition = Transition(
                obs=self.pack(obs),
                action=action.astype(jnp.int32),
                reward=out.reward.astype(jnp.float32),
                discount=1.0 - out.terminated.astype(jnp.float32),
                next_obs=self.pack(out.final_obs),
            )
            interval = interval.add(out.finished_total, out.finished_count)
            return (env_state, out.obs, key, interval), transition

        # the scan carries only what a step changes, not the params, buffer and tracked checkpoints
        carry = (runner.env_state, runner.obs, runner.key, runner.tracking.interval)
        (env_state, obs, key, interval), traj = jax.lax.scan(step, carry, None, steps)
        runner = runner.replace(
            env_state=env_state, obs=obs, key=key, tracking=runner.tracking.replace(interval=interval)
        )
        return runner, traj

    def learn(self, runner: Runner, mask, enc, iteration):
        key, k_sample, k_dropout = jax.random.split(runner.key, 3)
        sample = self.buffer.sample(runner.buffer, k_sample)
        beta = priority_beta(self.cfg, iteration - self.sizes.first_update, self.sizes.num_updates)
        weights = importance_weights(sample.probabilities, beta)
        grads, td = jax.grad(self.loss, has_aux=True)(
            runner.params, runner.target, mask, enc, sample.experience, weights, k_dropout
        )
        params, opt_state = masked_step(self.tx, grads, runner.opt_state, runner.params, mask)
        priorities = new_priorities(td, sample.probabilities, self.cfg.priority_eps, self.priority_clip)
        buffer_state = self.buffer.set_priorities(runner.buffer, sample.indices, priorities)
        return runner.replace(params=params, opt_state=opt_state, buffer=buffer_state, key=key)

    def evaluate(self, envs, key, params, mask, enc=None, env_state=None):
        """(env_state, the mean return of `eval-episodes` evaluation episodes of `params`, epsilon
        eps-eval)."""
        policy = lambda p, k, o: self.head.actor(lambda x: self.q_values(p, enc, x))(k, o)  # noqa: E731
        return envs.evaluate(env_state, key, policy, apply_mask(params, mask))

    def evaluate_runner(self, envs, mask, enc, key, runner: Runner):
        env_state, ret = self.evaluate(envs, key, runner.params, mask, enc, runner.env_state)
        return runner.replace(env_state=env_state), ret

    def first_runner(self, envs, keys: RunKeys, start_params, mask) -> Runner:
        params = apply_mask(start_params, mask)
        k_reset, k_run = jax.random.split(keys.train)
        env_state, obs = envs.reset(k_reset)
        example = Transition(
            obs=self.pack(obs[0]),
            action=jnp.zeros((), jnp.int32),
            reward=jnp.zeros(()),
            discount=jnp.zeros(()),
            next_obs=self.pack(obs[0]),
        )
        return Runner(
            params=params,
            target=params,
            opt_state=self.tx.init(params),
            buffer=self.buffer.init(example),
            env_state=env_state,
            obs=obs,
            key=k_run,
            tracking=fresh_tracking(params, self.sizes.cadence.num_evals),
        )

    def step(self, envs, keys: RunKeys, mask):
        """`iterate(iteration, runner) -> runner`: collect, add to the buffer, learn once learning
        has started, copy the target on its cadence, then the rewind capture and evaluation."""
        cfg, sizes = self.cfg, self.sizes
        enc = encoder_params(self.spec.encoder, keys.data)

        def iterate(iteration, runner: Runner):
            eps = epsilon(cfg, iteration * sizes.steps_per_iteration)
            p = apply_mask(runner.params, mask)
            runner, traj = self.collect(envs, runner, p, enc, eps, sizes.rollout_len)
            flat = jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:]), traj)
            runner = runner.replace(buffer=self.buffer.add(runner.buffer, flat))
            runner = jax.lax.cond(
                iteration >= sizes.first_update, lambda r: self.learn(r, mask, enc, iteration), lambda r: r, runner
            )
            updates_done = iteration - sizes.first_update + 1
            copy = jnp.logical_and(updates_done > 0, updates_done % cfg.target_update_every == 0)
            runner = jax.lax.cond(copy, lambda r: r.replace(target=r.params), lambda r: r, runner)
            return after_step(runner, iteration, sizes.cadence, partial(self.evaluate_runner, envs, mask, enc))

        return iterate

    @property
    def stages(self) -> Stages:
        return runner_stages(self.first_runner, self.step, self.sizes.num_iterations)

    def batch_obs(self, envs, key, data_key, params, mask):
        """The observations of one batch of fresh transitions (epsilon eps-final), as the network sees them."""
        enc = encoder_params(self.spec.encoder, data_key)
        runner = self.first_runner(envs, RunKeys(train=key, data=data_key), params, mask)
        steps = -(-self.cfg.batch_size // self.cfg.num_envs)
        _, traj = self.collect(envs, runner, runner.params, enc, self.cfg.eps_final, steps)
        obs = self.unpack(traj.obs.reshape((-1,) + traj.obs.shape[2:])[: self.cfg.batch_size])
        return encode(self.spec.encoder, enc, obs)

    def batch_loss(self, envs, key, data_key, params, mask):
        """The TD loss on one batch of fresh transitions (epsilon eps-final) of the masked params,
        with themselves as the target (for gradient-based pruning scores)."""
        enc = encoder_params(self.spec.encoder, data_key)
        runner = self.first_runner(envs, RunKeys(train=key, data=data_key), jax.lax.stop_gradient(params), mask)
        steps = -(-self.cfg.batch_size // self.cfg.num_envs)
        _, traj = self.collect(envs, runner, runner.params, enc, self.cfg.eps_final, steps)
        batch = jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:])[: self.cfg.batch_size], traj)
        loss, _ = self.loss(params, runner.params, mask, enc, batch, jnp.ones(batch.reward.shape[0]), key)
        return loss


def build(cfg: ExperimentConfig, spec, expert=None) -> Agent:
    dqn = DQN(cfg, spec)
    return Agent(
        init=dqn.init,
        train=dqn.stages.train,
        env_steps=dqn.sizes.env_steps,
        rewind_update=dqn.sizes.cadence.rewind_step,
        batch_loss=with_one_run_envs(dqn.batch_loss, spec, cfg.dqn),
        batch_obs=with_one_run_envs(dqn.batch_obs, spec, cfg.dqn),
        modules={"q": lambda p, x: dqn.qnet.apply({"params": p}, x)},
        program=dqn,
        num_envs=cfg.dqn.num_envs,
        eval_episodes=cfg.dqn.eval_episodes,
        stages=dqn.stages,
    )


def acting(cfg: ExperimentConfig, spec) -> Acting:
    return Acting(
        "q",
        q_network(cfg, spec),
        QValues(spec.num_actions, eval_epsilon=cfg.dqn.eps_eval, data_epsilon=cfg.dqn.eps_final),
    )


def validate(cfg: ExperimentConfig, spec) -> None:
    d = cfg.dqn
    check_fields_positive(
        "dqn",
        d,
        (
            "total_steps",
            "num_envs",
            "buffer_size",
            "batch_size",
            "replay_ratio",
            "target_update_every",
            "eps_anneal_steps",
            "eval_every",
            "eval_episodes",
            "lr",
            "huber_delta",
            "max_grad_norm",
            "priority_eps",
            "adam_eps",
        ),
    )
    check_choice("dqn.eps-anneal-from", d.eps_anneal_from, EPS_ANNEAL_FROM)
    check_choice("dqn.priority-rule", d.priority_rule, PRIORITY_RULES)
    for field in (
        "gamma",
        "eps_start",
        "eps_final",
        "eps_eval",
        "priority_alpha",
        "priority_beta_start",
        "priority_beta_final",
    ):
        if not 0.0 <= getattr(d, field) <= 1.0:
            raise ConfigError(f"dqn.{field.replace('_', '-')}", f"must be in [0, 1], got {getattr(d, field)}")
    per_iteration = d.batch_size // d.replay_ratio
    if d.batch_size % d.replay_ratio or per_iteration % d.num_envs:
        raise ConfigError(
            "dqn.num-envs",
            f"batch-size / replay-ratio = {d.batch_size / d.replay_ratio:g} env steps "
            f"per update must be a whole multiple of num-envs ({d.num_envs})",
        )
    if d.learning_starts < d.batch_size:
        raise ConfigError("dqn.learning-starts", f"must be >= batch-size ({d.batch_size}), got {d.learning_starts}")
    if d.buffer_size < d.batch_size:
        raise ConfigError("dqn.buffer-size", f"must be >= batch-size ({d.batch_size}), got {d.buffer_size}")
    if d.total_steps <= d.learning_starts:
        raise ConfigError("dqn.total-steps", f"must exceed learning-starts ({d.learning_starts}), got {d.total_steps}")
    if not spec.discrete:
        raise ConfigError("algo", f"dqn needs discrete actions; {spec.id} has continuous ones (use ppo)")


AGENT = AgentDef(
    name="dqn",
    section="dqn",
    build=build,
    validate=validate,
    acting=acting,
    total_steps=lambda cfg: cfg.dqn.total_steps,
    scopes=("actor",),
    applies_encoders=True,
    supports_dropout=True,
    width_fields=("q_hidden",),
)
