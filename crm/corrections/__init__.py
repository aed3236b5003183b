"""Corrections and withdrawals (更正与撤回) of the records users keep: each settled change is a
version with its reason, each withdrawal a mark, never an erasure."""
