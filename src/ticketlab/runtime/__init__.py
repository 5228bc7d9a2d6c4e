"""What every block runs on: pinned worker processes with one XLA thread (workers.py) and the
unrolled Threefry lowering on the CPU (threefry_cpu.py)."""
