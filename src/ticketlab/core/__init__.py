"""The ground floor: errors, the `Registry` class every name table uses, the config dataclasses and
their hash. No JAX, no matplotlib: anything may import it."""
