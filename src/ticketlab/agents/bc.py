"""Behavioural cloning by policy distillation, as pure, jit-compiled stages (agents/loop.py): `begin`
collects the expert's data (derived: recomputed, never saved) and the student's first carry,
`advance` fits the student for a segment of epochs, `end` gives its output.

The data are transitions of the expert's own behaviour (its head's `behave`: a categorical or
Gaussian expert samples its policy; a Q-value expert acts epsilon-greedily), rolled out from
`keys.data` (derived from the seed alone), so they never depend on the student, the condition or
the level: every student of a seed sees the same transitions. Both halves are written once against
`envs` (envs/stepping.py); on the host backend the data of a seed are collected once per process
and reused by every block (`host_trainer`). The student minimizes the distillation loss of its kind (`bc.loss`:
cross-entropy, Gaussian KL, or value Huber) between teacher and student outputs with Adam, and is
evaluated by rolling out its own policy; the best-evaluating student is kept, as in RL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from ticketlab.agents.base import Acting, Agent, AgentDef, Trainer, compiled, staged, with_one_run_envs
from ticketlab.agents.distill_losses import LOSSES
from ticketlab.agents.heads import EVAL_POLICIES, HEADS, Categorical, Gaussian
from ticketlab.agents.loop import (
    Cadence,
    Stage,
    Stages,
    Tracking,
    after_step,
    fresh_tracking,
    record,
    split2,
    steps,
    train_output,
)
from ticketlab.agents.output import RunKeys, TrainOutput
from ticketlab.agents.replay import observation_compactor
from ticketlab.agents.shuffle import permutation
from ticketlab.core.config import BCConfig, ExperimentConfig
from ticketlab.core.errors import ConfigError, check_fields_positive
from ticketlab.envs.backends import Programs
from ticketlab.envs.base import PER_RUN
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
    return Schedule(
        steps_per_env=steps_per_env,
        env_steps=samples,
        batches_per_epoch=per_epoch,
        grad_steps=grad_steps,
        cadence=Cadence(grad_steps, cfg.eval_every),
    )


def student_head(spec, loss: str):
    """The head class of the student a loss trains (`bc.loss`; policies by the action space otherwise)."""
    return LOSSES.get(loss).head if loss in LOSSES else (Categorical if spec.discrete else Gaussian)


def student_network(cfg: ExperimentConfig, spec):
    head = student_head(spec, cfg.bc.loss).for_spec(spec)
    return make_network(
        hidden=cfg.student.hidden,
        out=head.num_outputs,
        obs_shape=spec.obs_shape,
        activation=cfg.network.activation,
        scheme=cfg.init.scheme,
        input_scale=cfg.init.input_scale,
        is_policy=head.policy,
        torso=cfg.network.torso,
        image_layout=spec.image_layout,
        gaussian=head.gaussian,
        log_std_init=cfg.network.log_std_init,
        mean_activation=cfg.network.mean_activation,
    )


def teacher_outputs(expert, spec):
    """`out(obs) -> the expert's outputs` (logits, (mean, log_std) or Q-values)."""
    teacher = expert.network(spec)
    teacher_params = jax.tree_util.tree_map(jnp.asarray, expert.params)
    return lambda obs: teacher.apply({"params": teacher_params}, obs)


class Carry(struct.PyTreeNode):
    params: Any
    opt_state: Any
    key: jax.Array
    tracking: Tracking
    data_digest: jax.Array
    env_state: Any = None
    """What evaluation threads through a block's environments (None: nothing)."""


class BC:
    """The pieces of one behavioural-cloning configuration, given its resolved expert."""

    def __init__(self, cfg: ExperimentConfig, spec, expert):
        self.cfg, self.spec = cfg.bc, spec
        self.head = student_head(spec, cfg.bc.loss).for_spec(spec)
        self.student = student_network(cfg, spec)
        self.sizes = schedule(cfg.bc)
        self.expert = expert
        self.pack, self.unpack = observation_compactor(spec)
        self.distill = LOSSES.get(cfg.bc.loss).fn
        self.tx = adam(cfg.bc.lr, weight_decay=cfg.network.weight_decay)
        self.eval_policy = cfg.eval.policy

    def init(self, key):
        return {"actor": self.student.init(key, jnp.zeros((1,) + tuple(self.spec.obs_shape)))["params"]}

    def out(self, params, obs):
        return self.student.apply({"params": params["actor"]}, obs)

    def loss(self, params, mask, obs, teacher_out):
        return self.distill(teacher_out, self.out(apply_mask(params, mask), obs)).mean()

    def collect(self, envs, data_key):
        """(obs [N, ...], teacher outputs [N, ...]) per run: the expert's own rollouts of
        `steps_per_env` steps of every env, time-major (step t of env e is row t * num_envs + e),
        boolean observations packed into bits (MinAtar's 10M transitions would otherwise take 4 GB)."""
        runs, sizes = envs.runs, self.sizes
        teacher = runs(teacher_outputs(self.expert, self.spec))
        behave = runs(self.expert.head(self.spec).behave)
        k_reset, k_roll = runs(split2)(data_key)
        env_state, obs = envs.reset(k_reset)

        def step(carry, key):
            env_state, obs = carry
            k_act, k_env = runs(split2)(key)
            out = teacher(obs)
            env_state, stepped = envs.step(env_state, k_env, behave(k_act, out))
            return (env_state, stepped.obs), (runs(self.pack)(obs), out)

        keys = envs.by_run(runs(lambda k: jax.random.split(k, sizes.steps_per_env))(k_roll))  # time first
        _, data = jax.lax.scan(step, (env_state, obs), keys)
        flat = lambda x: x.reshape((-1,) + x.shape[2:])  # noqa: E731
        return runs(lambda d: jax.tree_util.tree_map(flat, d))(envs.by_run(data))

    def actor(self, p):
        """`act(step_key, obs) -> (env action, step_key)` of masked params `p`, as evaluated."""
        return self.head.actor(lambda o: self.out(p, o), self.eval_policy)

    def policy(self, p, step_key, obs):
        return self.actor(p)(step_key, obs)

    def evaluate(self, envs, mask, key, c: Carry):
        """(carry, each run's mean evaluation return of the student's own policy)."""
        env_state, ret = envs.evaluate(c.env_state, key, self.policy, envs.runs(apply_mask)(c.params, mask))
        return c.replace(env_state=env_state), ret

    def first_carry(self, key, params) -> Carry:
        """The carry of a run that starts at (masked) `params`."""
        return Carry(
            params=params,
            opt_state=self.tx.init(params),
            key=key,
            tracking=fresh_tracking(params, self.sizes.cadence.num_evals),
            data_digest=jnp.zeros(()),
        )

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
        return c.replace(
            params=new_params, opt_state=opt_state, tracking=record(c.tracking, loss, 1), data_digest=digest
        )

    def begin_fit(self, envs, keys: RunKeys, start_params, mask, obs, teacher_out) -> Stage:
        """The student's first carry; the data and the masked start (its rewind point) are derived."""
        params = envs.runs(apply_mask)(start_params, mask)
        first = envs.runs(self.first_carry)(keys.train, params).replace(env_state=envs.evaluation_state())
        return Stage(first, derived=(obs, teacher_out, params))

    def begin(self, envs, keys: RunKeys, start_params, mask) -> Stage:
        return self.begin_fit(envs, keys, start_params, mask, *self.collect(envs, keys.data))

    def advance(self, envs, stage: Stage, keys: RunKeys, mask, first, count) -> Stage:
        """Epochs `first` .. `first + count - 1` of shuffled minibatches of the collected data,
        evaluated every `eval-every` steps; the best-evaluating student is kept."""
        runs, sizes = envs.runs, self.sizes
        per_epoch, num_samples = sizes.batches_per_epoch, sizes.env_steps
        obs, teacher_out, _ = stage.derived
        learn = runs(self.learn_batch)  # (per run: the environments' state stays out of it)
        evaluate = partial(self.evaluate, envs, mask)

        def epoch(epoch_index, c: Carry):
            key, order = runs(lambda k: self.epoch_order(k, num_samples))(c.key)

            def step(c: Carry, xs):
                batch_index, idx = xs
                c = learn(c.replace(env_state=None), mask, obs, teacher_out, idx).replace(env_state=c.env_state)
                done = epoch_index * per_epoch + batch_index
                return after_step(c, done, sizes.cadence, evaluate, runs), None

            c, _ = jax.lax.scan(step, c.replace(key=key), (jnp.arange(per_epoch), envs.by_run(order)))
            return c

        return stage.replace(carry=steps(epoch, stage.carry, first, count))

    def end(self, envs, stage: Stage) -> TrainOutput:
        c, (_, _, start) = stage.carry, stage.derived
        return envs.runs(lambda p, t, d, r: train_output(p, t, d).replace(rewind_params=r))(
            c.params, c.tracking, c.data_digest, start
        )

    @property
    def stages(self) -> Stages:
        return Stages(self.begin, self.advance, self.end, self.cfg.epochs)

    def batch_obs(self, envs, key, data_key, params, mask):
        """The observations of one random batch of the seed's expert data."""
        obs, _ = self.collect(envs, data_key)
        return self.unpack(obs[jax.random.choice(key, obs.shape[0], (self.cfg.batch_size,), replace=False)])

    def batch_loss(self, envs, key, data_key, params, mask):
        """The distillation loss on one random batch of the seed's expert data."""
        obs, teacher_out = self.collect(envs, data_key)
        idx = jax.random.choice(key, obs.shape[0], (self.cfg.batch_size,), replace=False)
        return self.loss(params, mask, self.unpack(obs[idx]), jax.tree_util.tree_map(lambda x: x[idx], teacher_out))


def data_tag(data_key) -> bytes:
    """A seed's data key as bytes (the key of its expert data in `host_trainer`'s cache)."""
    raw = jax.random.key_data(data_key) if jnp.issubdtype(data_key.dtype, jax.dtypes.prng_key) else data_key
    return np.asarray(raw).tobytes()


def host_trainer(agent: Agent, spec, cache: dict[bytes, tuple] | None = None) -> Trainer:
    """BC's trainer on the host backend: a seed's expert data are collected once per process (the
    expert steps Python environments) into `cache` (by `data_tag`) and every block distils from them."""
    bc = agent.program
    programs = Programs(spec, agent.num_envs, agent.eval_episodes)
    collect, begin_fit = programs.compile(bc.collect), programs.compile(bc.begin_fit)
    cache = {} if cache is None else cache

    def data_of(data_key):
        tag = data_tag(data_key)
        if tag not in cache:
            cache[tag] = jax.tree_util.tree_map(lambda x: x[0], collect(data_key[None]))
        return cache[tag]

    def begin(keys: RunKeys, starts, masks):
        obs, teacher_out = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *[data_of(k) for k in keys.data])
        return begin_fit(keys, starts, masks, obs, teacher_out)

    return staged(programs, bc.stages, begin=begin)


def build(cfg: ExperimentConfig, spec, expert) -> Agent:
    if expert.env != spec.id:
        raise ConfigError("bc.expert", f"the expert plays {expert.env}, this run {spec.id}")
    bc = BC(cfg, spec, expert)
    teacher = HEADS.get(expert.kind)
    if teacher is not type(bc.head):
        raise ConfigError(
            "bc.loss",
            f"{cfg.bc.loss} distils a {bc.head.name} teacher; this expert is {expert.kind} "
            f"(allowed: {', '.join(n for n, entry in LOSSES.items() if entry.head is teacher)})",
        )
    return Agent(
        init=bc.init,
        train=bc.stages.train,
        env_steps=bc.sizes.env_steps,
        rewind_update=0,
        batch_loss=with_one_run_envs(bc.batch_loss, spec, cfg.bc),
        batch_obs=with_one_run_envs(bc.batch_obs, spec, cfg.bc),
        modules={"actor": lambda p, x: bc.student.apply({"params": p}, x)},
        program=bc,
        num_envs=cfg.bc.num_envs,
        eval_episodes=cfg.bc.eval_episodes,
        stages=bc.stages,
    )


def acting(cfg: ExperimentConfig, spec) -> Acting:
    return Acting("actor", student_network(cfg, spec), student_head(spec, cfg.bc.loss).for_spec(spec))


def validate(cfg: ExperimentConfig, spec) -> None:
    b = cfg.bc
    check_fields_positive(
        "bc",
        b,
        ("expert_seeds", "total_steps", "num_envs", "epochs", "batch_size", "eval_every", "eval_episodes", "lr"),
    )
    entry = LOSSES.get(b.loss)
    if entry.head.gaussian == spec.discrete:
        allowed = [n for n, e in LOSSES.items() if e.head.gaussian != spec.discrete]
        raise ConfigError(
            "bc.loss",
            f"{b.loss!r} does not fit {spec.id}'s "
            f"{'discrete' if spec.discrete else 'continuous'} actions; allowed: {', '.join(allowed)}",
        )
    if not entry.head.policy and cfg.eval.policy != "greedy":
        raise ConfigError("eval.policy", "a value student acts greedily on its Q-values; allowed: greedy")
    if b.total_steps // b.num_envs * b.num_envs < b.batch_size:
        raise ConfigError(
            "bc.batch-size", f"must be <= the collected transitions ({b.total_steps}), got {b.batch_size}"
        )
    if not cfg.student.hidden or any(w < 1 for w in cfg.student.hidden):
        raise ConfigError("student.hidden", f"widths must be >= 1, e.g. 128,128; got {cfg.student.hidden}")
    if cfg.imp.rewind_steps:
        raise ConfigError("imp.rewind-steps", "late rewinding is for RL runs; behavioural cloning allows only 0")


AGENT = AgentDef(
    name="bc",
    section="bc",
    build=build,
    validate=validate,
    acting=acting,
    total_steps=lambda cfg: cfg.bc.total_steps,
    scopes=("actor",),
    eval_policies=EVAL_POLICIES,
    train_curve_kind="distillation_loss",
    needs_expert=True,
    trainers={PER_RUN: compiled, "host": host_trainer},  # (students see raw observations: not ALE's frames)
)
