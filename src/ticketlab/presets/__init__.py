"""The paper's settings by name (SI C), one file per task family; `ticketlab presets` lists them.

Each family file lists its entries (`Preset`, presets/base.py), registered here in the order of
`FAMILIES`; how each demo setting was chosen is told in docs/presets.md.
"""

from ticketlab.presets import atari, classic, continuous, mazegrid, minatar, suites, supervised
from ticketlab.presets.base import FAMILIES, PRESETS, SCALES, Preset, describe, preset, register_preset

for _family in (classic, mazegrid, continuous, minatar, atari, supervised, suites):
    for _entry in _family.ENTRIES:
        register_preset(_entry)

__all__ = ["FAMILIES", "PRESETS", "SCALES", "Preset", "describe", "preset", "register_preset"]
