"""Pairings (结对共建) between agency branches and two-new branches, and their joint activities."""
