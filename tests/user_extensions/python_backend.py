"""A new environment family on a new backend, from a user's own module, touching no file of
ticketlab: `py:<Name>` ids name environments written as plain Python classes (numpy, no Gymnasium,
no JAX), which the `python` backend steps through host callbacks inside the compiled training program,
a block of runs at a time. Every agent whose training function serves effectful backends (PPO) then
trains on them, under the same IMP driver, conditions, store and figures.

The environment: the corridor of tests/user_envs/corridor.py, as a Python class (10 cells, start at 0,
paid 1 at cell 9, -0.01 a step, 40 steps; observation: position / 9 and a noise dimension)."""
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax.experimental import io_callback

from ticketlab.envs.backends import BACKENDS, register_backend
from ticketlab.envs.base import Backend, EnvSpec, Family
from ticketlab.envs.registry import FAMILIES, plain_encoding, register_family
from ticketlab.envs.stepping import EnvStep, ProgramEnvs, count_episodes, episode_returns, vmap_runs

PREFIX = "py:"


class Corridor:
    obs_names, num_actions, max_steps = ("position", "noise"), 2, 40

    def __init__(self, seed: int):
        self.rng, self.position, self.time = np.random.default_rng(seed), 0, 0

    def observe(self):
        return np.array([self.position / 9.0, self.rng.uniform()], np.float32)

    def reset(self):
        self.position, self.time = 0, 0
        return self.observe()

    def step(self, action: int):
        self.position = int(np.clip(self.position + 2 * int(action) - 1, 0, 9))
        self.time += 1
        terminated = self.position == 9
        return self.observe(), (1.0 if terminated else -0.01), terminated, self.time >= self.max_steps


CLASSES = {"Corridor": Corridor}


@struct.dataclass
class State:
    episode_return: jax.Array


class PythonEnvs(ProgramEnvs):
    """`num_envs` Python environments per run of a block, with same-step autoreset."""

    runs = staticmethod(vmap_runs)

    def __init__(self, spec: EnvSpec, num_envs: int, eval_episodes: int, runs: int):
        self.cls, self.R, self.E, self.n, self.spec = spec.env, runs, num_envs, eval_episodes, spec
        self.train, self.eval = [], []

    def by_run(self, tree):
        return jax.tree_util.tree_map(lambda x: jnp.swapaxes(x, 0, 1), tree)

    def _shapes(self, copies):
        obs = jax.ShapeDtypeStruct((self.R, copies, 2), jnp.float32)
        flag = jax.ShapeDtypeStruct((self.R, copies), jnp.bool_)
        return obs, jax.ShapeDtypeStruct((self.R, copies), jnp.float32), flag, flag, obs

    def _open(self, seeds, copies):
        envs = [[self.cls(int(seed) * 1000 + i) for i in range(copies)] for seed in np.asarray(seeds)]
        return envs, np.array([[env.reset() for env in run] for run in envs], np.float32)

    def _step(self, envs, action):
        out = [[list(env.step(a)) for env, a in zip(run, acts)] for run, acts in zip(envs, np.asarray(action))]
        obs = np.array([[o[0] for o in run] for run in out], np.float32)
        reward = np.array([[o[1] for o in run] for run in out], np.float32)
        terminated = np.array([[o[2] for o in run] for run in out])
        truncated = np.array([[o[3] for o in run] for run in out])
        final = obs.copy()
        for r, run in enumerate(envs):
            for e, env in enumerate(run):
                if terminated[r, e] or truncated[r, e]:
                    obs[r, e] = env.reset()
        return obs, reward, terminated, truncated, final

    def reset(self, key):
        seeds = jax.vmap(lambda k: jax.random.randint(k, (), 0, 2**20))(key)

        def reset(seeds):
            self.train, obs = self._open(seeds, self.E)
            return obs

        return State(jnp.zeros((self.R, self.E))), io_callback(reset, self._shapes(self.E)[0], seeds, ordered=True)

    def step(self, state, key, action):
        obs, reward, terminated, truncated, final = io_callback(lambda a: self._step(self.train, a), self._shapes(self.E),
                                                                action, ordered=True)
        done = terminated | truncated
        episode_return, total, count = jax.vmap(count_episodes)(state.episode_return, reward, done)
        return State(episode_return), EnvStep(obs, reward, terminated, truncated, final, None, total, count)

    def evaluate(self, state, key, policy, params):
        seeds = jax.vmap(lambda k: jax.random.randint(k, (), 2**20, 2**21))(key)

        def reset(seeds):
            self.eval, obs = self._open(seeds, self.n)
            return obs

        obs = io_callback(reset, self._shapes(self.n)[0], seeds, ordered=True)

        def step(t, obs):
            action, _ = jax.vmap(policy)(params, jax.vmap(lambda k: jax.random.fold_in(k, t))(key), obs)
            obs, reward, terminated, truncated, _ = io_callback(lambda a: self._step(self.eval, a), self._shapes(self.n),
                                                                action, ordered=True)
            return obs, reward, terminated | truncated

        _, total = episode_returns(step, obs, self.spec.max_episode_steps, (self.R, self.n))
        return state, total.mean(axis=1)


def build(env_id: str, env_cfg) -> EnvSpec:
    plain_encoding(env_id, env_cfg.encoding)
    cls = CLASSES[env_id[len(PREFIX):]]
    return EnvSpec(id=env_id, env=cls, params=None, obs_shape=(2,), obs_names=cls.obs_names, return_floor=-0.4,
                   max_episode_steps=cls.max_steps, num_actions=cls.num_actions, raw_obs_shape=(2,),
                   backend="python")


def register():
    """Register the entries; returns (registry, name) of each, for undoing."""
    register_backend(Backend("python", "plain Python environment classes, stepped through host callbacks",
                             per_run=False, make_envs=PythonEnvs, configure=lambda spec, env_cfg: spec))
    register_family(Family("python", f"{PREFIX}<{'|'.join(CLASSES)}>", matches=lambda env_id: env_id.startswith(PREFIX),
                           build=build, backend="python", discrete=lambda env_id: True))
    return [(FAMILIES, "python"), (BACKENDS, "python")]
