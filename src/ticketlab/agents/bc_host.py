"""Behavioural cloning on host-side environments (PyBullet, any Gymnasium id): the expert's data
are rolled out on the host, the students' Adam steps are the jitted, vmapped `BC.learn_batch` of the
compiled path, and evaluation runs on the host between chunks of steps.

The data of a seed come from its data key alone (the expert acts with keys split from it, the
environments are seeded from it), so every condition and level of a seed distils the same
transitions; a process collects them once per seed and keeps them (`HostBC.data`). The order of
batches and the evaluation points are those of the compiled path: `BC.epoch_order` per epoch,
an evaluation after every `eval-every` gradient steps and after the last.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.agents.base import Agent
from ticketlab.agents.bc import BC, behaviour, teacher_outputs
from ticketlab.agents.host_runs import HostEvaluator, host_seed
from ticketlab.agents.loop import track_evaluation, train_output
from ticketlab.agents.output import RunKeys
from ticketlab.agents.replay import observation_compactor
from ticketlab.envs.host import HostVectorEnv
from ticketlab.pruning.masks import apply_mask


def data_tag(data_key) -> bytes:
    """What `HostBC.data` files a seed's data under: its data key's bits."""
    raw = jax.random.key_data(data_key) if jnp.issubdtype(data_key.dtype, jax.dtypes.prng_key) else data_key
    return np.asarray(raw).tobytes()


class HostBC:
    """The compiled pieces of behavioural cloning, batched over runs, around host environments."""

    def __init__(self, bc: BC):
        self.bc = bc
        spec, cfg = bc.spec, bc.cfg
        self.env_id = spec.host_id
        teacher = teacher_outputs(bc.expert, spec)
        behave = behaviour(bc.expert, spec, cfg.num_envs)
        self.pack, _ = observation_compactor(spec)

        def expert_step(key, obs):
            key, k_act = jax.random.split(key)
            out = teacher(obs)
            return key, out, behave(k_act, out)

        self.expert_step = jax.jit(expert_step)
        self.data: dict[bytes, tuple] = {}
        vmap = jax.vmap
        self.start = jax.jit(vmap(lambda key, p, m: bc.first_carry(key, apply_mask(p, m))))

        def epoch_order(c, num_samples):
            key, order = bc.epoch_order(c.key, num_samples)
            return c.replace(key=key), order

        def split_eval(c):
            key, k_eval = jax.random.split(c.key)
            return c.replace(key=key), k_eval

        self.order = jax.jit(vmap(epoch_order, in_axes=(0, None)), static_argnums=1)

        def steps(c, mask, obs, teacher_out, order):
            c, _ = jax.lax.scan(lambda c, idx: (bc.learn_batch(c, mask, obs, teacher_out, idx), None), c, order)
            return c

        self.steps = jax.jit(vmap(steps))
        self.split_eval = jax.jit(vmap(split_eval))
        self.track = jax.jit(vmap(lambda c, ret, slot: c.replace(tracking=track_evaluation(c.tracking, c.params, ret, slot))))
        self.output = jax.jit(vmap(lambda c, rewind: train_output(c, c.data_digest).replace(rewind_params=rewind)))
        self.evaluate = HostEvaluator(self.env_id, lambda p, key, obs: bc.actor(p)(key, obs)[0], cfg.eval_episodes)

    def collect(self, data_key):
        """(obs [N, ...], teacher outputs [N, ...]) of one seed's data key, in the compiled path's
        order (time-major: step t of env e is row t * num_envs + e); collected once per process."""
        tag = data_tag(data_key)
        if tag not in self.data:
            cfg, sizes = self.bc.cfg, self.bc.sizes
            k_reset, key = jax.random.split(data_key)
            observations, outputs = [], []
            with HostVectorEnv(self.env_id, cfg.num_envs, host_seed(k_reset)) as env:
                obs = env.reset()
                for _ in range(sizes.steps_per_env):
                    key, out, action = self.expert_step(key, jnp.asarray(obs))
                    observations.append(self.pack(jnp.asarray(obs)))
                    outputs.append(out)
                    obs = env.step(np.asarray(action))[0]
            flat = lambda xs: jnp.concatenate(xs, axis=0)  # noqa: E731
            self.data[tag] = (flat(observations), jax.tree_util.tree_map(lambda *xs: flat(xs), *outputs))
        return self.data[tag]

    def train_batch(self, keys: RunKeys, starts, masks):
        bc, cadence, per_epoch = self.bc, self.bc.sizes.cadence, self.bc.sizes.batches_per_epoch
        runs = keys.train.shape[0]
        data = [self.collect(k) for k in keys.data]
        obs = jnp.stack([d[0] for d in data])
        teacher_out = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *[d[1] for d in data])
        rewind = jax.vmap(apply_mask)(starts, masks)
        c = self.start(keys.train, starts, masks)
        for epoch in range(bc.cfg.epochs):
            c, order = self.order(c, int(obs.shape[1]))
            done = 0
            for b in range(per_epoch):
                step = epoch * per_epoch + b
                if not cadence.evaluates_after(step):
                    continue
                c = self.steps(c, masks, obs, teacher_out, order[:, done:b + 1])
                done = b + 1
                c, k_eval = self.split_eval(c)
                ret = jnp.asarray(self.evaluate(c.params, masks, k_eval))
                c = self.track(c, ret, jnp.full((runs,), step // cadence.eval_every))
            if done < per_epoch:
                c = self.steps(c, masks, obs, teacher_out, order[:, done:])
        return self.output(c, rewind)


def make_host_train(agent: Agent):
    """`train_batch(stacked RunKeys, stacked starts, stacked masks)` of a BC agent on a host env."""
    return HostBC(agent.program).train_batch
