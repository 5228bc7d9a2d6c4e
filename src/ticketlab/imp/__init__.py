"""The IMP engine: the level loop (driver.py), blocks of runs trained in one compiled call, the
chains of conditions, keys from identity, and the program built once per config (program.py)."""
