"""Benchmarks: `python -m bench` runs every registered workload and prints how
our code compares with a bare baseline doing the same job.  Ratios are
printed, never asserted: wall-clock times depend on the machine."""
