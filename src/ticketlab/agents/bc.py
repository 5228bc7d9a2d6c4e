"""Behavioural cloning by policy distillation, as one pure, jit-compiled function
`train(keys, start_params, mask)`, vmapped over the (seed, condition) runs of an IMP level.

The data are transitions of the expert's own behaviour (a categorical or Gaussian expert samples
its policy; a Q-value expert acts epsilon-greedily), rolled out from `keys.data` (derived from the
seed alone), so they never depend on the student, the condition or the level: every student of a
seed sees the same transitions. The student minimizes the distillation loss of its kind (`bc.loss`:
cross-entropy, Gaussian KL, or value Huber) between teacher and student outputs with Adam, and is
evaluated by rolling out its own policy; the best-evaluating student is kept, as in RL.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef
from ticketlab.agents.distill_losses import LOSSES
from ticketlab.agents.evaluate import epsilon_greedy_actor, evaluate_episodes, policy_actor
from ticketlab.agents.heads import EVAL_POLICIES, head_for
from ticketlab.agents.loop import Cadence, Tracking, after_step, fresh_tracking, record, train_output
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.agents.replay import observation_compactor
from ticketlab.agents.shuffle import permutation
from ticketlab.core.config import BCConfig, ExperimentConfig
from ticketlab.core.errors import ConfigError, check_fields_positive
from ticketlab.networks.network import make_network
from ticketlab.pruning.masked_optimizer import adam, masked_step
from ticketlab.pruning.masks import apply_mask


@dataclass(frozen=True)
class Schedule:
    steps_per_env: int
    env_steps: int
    batches_per_epoch: int
    grad_steps: int
    cadence: Cadence


def schedule(cfg: BCConfig) -> Schedule:
    steps_per_env = cfg.total_steps // cfg.num_envs
    samples = steps_per_env * cfg.num_envs
    per_epoch = samples // cfg.batch_size
    grad_steps = cfg.epochs * per_epoch
    return Schedule(steps_per_env=steps_per_env, env_steps=samples, batches_per_epoch=per_epoch,
                    grad_steps=grad_steps, cadence=Cadence(grad_steps, cfg.eval_every))


def student_kind(spec, loss: str) -> str:
    return LOSSES.get(loss).kind if loss in LOSSES else ("categorical" if spec.discrete else "gaussian")


def student_network(cfg: ExperimentConfig, spec):
    kind = student_kind(spec, cfg.bc.loss)
    return make_network(hidden=cfg.student.hidden, out=spec.num_actions if spec.discrete else spec.action_dim,
                        obs_shape=spec.obs_shape, activation=cfg.network.activation, scheme=cfg.init.scheme,
                        input_scale=cfg.init.input_scale, is_policy=kind != "q", torso=cfg.network.torso,
                        image_layout=spec.image_layout, gaussian=kind == "gaussian",
                        log_std_init=cfg.network.log_std_init,
                        mean_activation=cfg.network.mean_activation)


def behaviour(expert, spec, num_envs: int):
    """`behave(key, expert outputs [E, ...]) -> env actions [E]`: how the expert acts while its data
    are collected (a categorical or Gaussian expert samples its policy; a Q-value expert acts
    epsilon-greedily with its data epsilon)."""
    head = head_for(spec)

    def behave(key, out):
        if expert.kind == "categorical":
            return jax.random.categorical(key, out)
        if expert.kind == "gaussian":
            return head.to_env(head.distribution(out).sample(seed=key))
        k_explore, k_random = jax.random.split(key)
        explore = jax.random.uniform(k_explore, (num_envs,)) < expert.epsilon
        return jnp.where(explore, jax.random.randint(k_random, (num_envs,), 0, spec.num_actions),
                         jnp.argmax(out, axis=-1))

    return behave


def teacher_outputs(expert, spec):
    """`out(obs) -> the expert's outputs` (logits, (mean, log_std) or Q-values)."""
    teacher = expert.network(spec)
    teacher_params = jax.tree_util.tree_map(jnp.asarray, expert.params)
    return lambda obs: teacher.apply({"params": teacher_params}, obs)


def make_collect(cfg: BCConfig, spec, expert):
    """`collect(data_key) -> (obs [N, ...], teacher outputs [N, ...])`: the expert's own rollouts,
    boolean observations packed into bits (`compactor`; MinAtar's 10M transitions would otherwise
    take 4 GB a run)."""
    sizes = schedule(cfg)
    pack, _ = observation_compactor(spec)
    env, env_params, E = spec.env, spec.params, cfg.num_envs
    step_env = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    teacher = teacher_outputs(expert, spec)
    behave = behaviour(expert, spec, E)

    def collect(data_key):
        k_reset, k_roll = jax.random.split(data_key)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, E), env_params)

        def step(carry, key):
            obs, state = carry
            k_act, k_env = jax.random.split(key)
            out = teacher(obs)
            next_obs, state, _, _, _, _ = step_env(jax.random.split(k_env, E), state, behave(k_act, out), env_params)
            return (next_obs, state), (pack(obs), out)

        _, (obs_seq, out_seq) = jax.lax.scan(step, (obs, state), jax.random.split(k_roll, sizes.steps_per_env))
        flat = lambda x: x.reshape((-1,) + x.shape[2:])  # noqa: E731
        return flat(obs_seq), jax.tree_util.tree_map(flat, out_seq)

    return collect


@struct.dataclass
class Carry:
    params: Any
    opt_state: Any
    key: jax.Array
    tracking: Tracking
    data_digest: jax.Array


class BC:
    """The pieces of one behavioural-cloning configuration, given its resolved expert."""

    def __init__(self, cfg: ExperimentConfig, spec, expert):
        self.cfg, self.spec = cfg.bc, spec
        self.kind = student_kind(spec, cfg.bc.loss)
        self.student = student_network(cfg, spec)
        self.sizes = schedule(cfg.bc)
        self.expert = expert
        self.collect = make_collect(cfg.bc, spec, expert) if spec.backend == "jax" else None
        _, self.unpack = observation_compactor(spec)
        self.distill = LOSSES.get(cfg.bc.loss).fn
        self.tx = adam(cfg.bc.lr, weight_decay=cfg.network.weight_decay)
        self.eval_policy = cfg.eval.policy

    def init(self, key):
        return {"actor": self.student.init(key, jnp.zeros((1,) + tuple(self.spec.obs_shape)))["params"]}

    def out(self, params, obs):
        return self.student.apply({"params": params["actor"]}, obs)

    def loss(self, params, mask, obs, teacher_out):
        return self.distill(teacher_out, self.out(apply_mask(params, mask), obs)).mean()

    def actor(self, p):
        """`act(step_key, obs) -> (env action, step_key)` of masked params `p`, as evaluated."""
        if self.kind == "q":
            return epsilon_greedy_actor(lambda o: self.out(p, o), self.spec.num_actions)
        return policy_actor(head_for(self.spec), lambda o: self.out(p, o), self.eval_policy)

    def evaluate(self, key, params, mask):
        return evaluate_episodes(key, self.actor(apply_mask(params, mask)), self.spec, self.cfg.eval_episodes)

    def first_carry(self, key, params) -> Carry:
        """The carry of a run that starts at (masked) `params`."""
        return Carry(params=params, opt_state=self.tx.init(params), key=key,
                     tracking=fresh_tracking(params, self.sizes.cadence.num_evals), data_digest=jnp.zeros(()))

    def epoch_order(self, key, num_samples: int):
        """(key, [batches_per_epoch, batch_size] sample indices): one epoch's shuffled batches."""
        key, k_perm = jax.random.split(key)
        used = self.sizes.batches_per_epoch * self.cfg.batch_size
        order = permutation(k_perm, num_samples)[:used]
        return key, order.reshape(self.sizes.batches_per_epoch, self.cfg.batch_size)

    def learn_batch(self, c: Carry, mask, obs, teacher_out, idx) -> Carry:
        """One masked Adam step on the samples `idx` of the data; the loss joins the training
        curve and the batch joins the data digest."""
        batch_out = jax.tree_util.tree_map(lambda x: x[idx], teacher_out)
        batch_obs = self.unpack(obs[idx])
        loss, grads = jax.value_and_grad(self.loss)(c.params, mask, batch_obs, batch_out)
        new_params, opt_state = masked_step(self.tx, grads, c.opt_state, c.params, mask)
        digest = c.data_digest + jnp.sum(batch_obs) + sum(jnp.sum(x) for x in jax.tree_util.tree_leaves(batch_out))
        return c.replace(params=new_params, opt_state=opt_state, tracking=record(c.tracking, loss, 1),
                         data_digest=digest)

    def train(self, keys: RunKeys, start_params, mask) -> TrainOutput:
        cfg, sizes = self.cfg, self.sizes
        per_epoch = sizes.batches_per_epoch
        params = apply_mask(start_params, mask)
        obs, teacher_out = self.collect(keys.data)

        def epoch(c: Carry, epoch_index):
            key, order = self.epoch_order(c.key, obs.shape[0])

            def step(c: Carry, xs):
                batch_index, idx = xs
                c = self.learn_batch(c, mask, obs, teacher_out, idx)
                done = epoch_index * per_epoch + batch_index
                return after_step(c, done, sizes.cadence, lambda k, c: self.evaluate(k, c.params, mask)), None

            c, _ = jax.lax.scan(step, c.replace(key=key), (jnp.arange(per_epoch), order))
            return c, None

        c, _ = jax.lax.scan(epoch, self.first_carry(keys.train, params), jnp.arange(cfg.epochs))
        out = train_output(c, c.data_digest)
        return out.replace(rewind_params=params)

    def batch_loss(self, key, data_key, params, mask):
        """The distillation loss on one random batch of the seed's expert data."""
        obs, teacher_out = self.collect(data_key)
        idx = jax.random.choice(key, obs.shape[0], (self.cfg.batch_size,), replace=False)
        return self.loss(params, mask, self.unpack(obs[idx]), jax.tree_util.tree_map(lambda x: x[idx], teacher_out))


def build(cfg: ExperimentConfig, spec, expert) -> Agent:
    if expert.env != spec.id:
        raise ConfigError("bc.expert", f"the expert plays {expert.env}, this run {spec.id}")
    bc = BC(cfg, spec, expert)
    if expert.kind != bc.kind:
        raise ConfigError("bc.loss", f"{cfg.bc.loss} distils a {bc.kind} teacher; this expert is {expert.kind} "
                          f"(allowed: {', '.join(n for n, entry in LOSSES.items() if entry.kind == expert.kind)})")
    jitted = spec.backend == "jax"  # host environments train through agents/bc_host.py
    return Agent(init=bc.init, train=bc.train if jitted else None, env_steps=bc.sizes.env_steps, rewind_update=0,
                 batch_loss=bc.batch_loss if jitted else None, program=bc)


def acting(cfg: ExperimentConfig, spec) -> Acting:
    kind = student_kind(spec, cfg.bc.loss)
    greedy = (lambda q: jnp.argmax(q, axis=-1)) if kind == "q" else head_for(spec).mode
    return Acting("actor", student_network(cfg, spec), greedy, kind=kind)


def validate(cfg: ExperimentConfig, spec) -> None:
    b = cfg.bc
    check_fields_positive("bc", b, ("expert_seeds", "total_steps", "num_envs", "epochs", "batch_size", "eval_every",
                                    "eval_episodes", "lr"))
    entry = LOSSES.get(b.loss)
    if (entry.kind == "gaussian") == spec.discrete:
        allowed = [n for n, e in LOSSES.items() if (e.kind == "gaussian") != spec.discrete]
        raise ConfigError("bc.loss", f"{b.loss!r} does not fit {spec.id}'s "
                          f"{'discrete' if spec.discrete else 'continuous'} actions; allowed: {', '.join(allowed)}")
    if entry.kind == "q" and cfg.eval.policy != "greedy":
        raise ConfigError("eval.policy", "a value student acts greedily on its Q-values; allowed: greedy")
    if b.total_steps // b.num_envs * b.num_envs < b.batch_size:
        raise ConfigError("bc.batch-size", f"must be <= the collected transitions ({b.total_steps}), got {b.batch_size}")
    if not cfg.student.hidden or any(w < 1 for w in cfg.student.hidden):
        raise ConfigError("student.hidden", f"widths must be >= 1, e.g. 128,128; got {cfg.student.hidden}")
    if cfg.imp.rewind_steps:
        raise ConfigError("imp.rewind-steps", "late rewinding is for RL runs; behavioural cloning allows only 0")


AGENT = AgentDef(
    name="bc", section="bc", build=build, validate=validate, acting=acting,
    total_steps=lambda cfg: cfg.bc.total_steps, scopes=("actor",), eval_policies=EVAL_POLICIES,
    train_curve_kind="distillation_loss", needs_expert=True,
)
