"""The learning paradigms: PPO, DQN, behavioural cloning, a supervised classifier and a training
function of your own, each an `AgentDef` entry (registry.py) whose training program is one pure,
compiled function.

Importing the package lowers Threefry unrolled on the CPU for every program compiled after it
(runtime/threefry_cpu.py: the same bits, compiled in about two thirds of the time).
"""

from ticketlab.runtime.threefry_cpu import use_unrolled_threefry

use_unrolled_threefry()
