"""The benchmark: `bench/run.py` is its command, one module per group family."""
