"""Instructors (专职党建指导员) and the caseload table of them."""
