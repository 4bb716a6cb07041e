"""Fictional data for demonstrations, tests and benchmarks: the demo unit and the
generated education group.  No domain package imports it."""
