"""The results store: every path (paths.py), atomic writes of safetensors and JSON (files.py), the
per-(level, seed) completion markers with checksums, the events log, seed locks, run directories with
their config and provenance, and the results table."""
