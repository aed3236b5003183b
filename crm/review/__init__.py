"""Caseload review for the 小个专 general party committee: figures, caseloads, alerts, checks."""
