"""Assignments (联系指导): which instructor guides which branch, with history; and who sees what."""
