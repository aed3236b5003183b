"""Visits (走访记录): logged on a phone, once, even on a weak signal."""
