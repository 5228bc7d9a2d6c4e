"""A user's own gymnax environment, registered with ticketlab from the user's module: a corridor
of 10 cells; the agent starts at 0 and is paid 1 for reaching cell 9 (-0.01 per step). The
observation is (position / 9, a uniform noise dimension the agent should learn to ignore).

Tests import this module by name (`--env.module corridor`) to show that an id registered outside
the package runs through the Python API and the command line."""
import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

import ticketlab


@struct.dataclass
class State(environment.EnvState):
    position: jax.Array
    time: int


@struct.dataclass
class Params(environment.EnvParams):
    max_steps_in_episode: int = 40


class Corridor(environment.Environment):
    @property
    def default_params(self):
        return Params()

    def reset_env(self, key, params):
        state = State(position=jnp.int32(0), time=0)
        return self.get_obs(state, params, key), state

    def step_env(self, key, state, action, params):
        position = jnp.clip(state.position + 2 * action - 1, 0, 9)
        state = State(position=position, time=state.time + 1)
        done = position == 9
        reward = jnp.where(done, 1.0, -0.01)
        return self.get_obs(state, params, key), state, reward, done, {}

    def is_terminated(self, state, params):
        return state.position == 9

    def get_obs(self, state, params=None, key=None):
        noise = jax.random.uniform(key if key is not None else jax.random.PRNGKey(0))
        return jnp.array([state.position / 9.0, noise], jnp.float32)

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params):
        return spaces.Box(0.0, 1.0, (2,), jnp.float32)

    @property
    def name(self):
        return "Corridor-v0"

    @property
    def num_actions(self):
        return 2


ticketlab.register_env("Corridor-v0", lambda: (Corridor(), Corridor().default_params),
                       obs_names=("position", "noise"), return_floor=-0.4, replace=True)
