"""The three meetings (三会) a branch keeps records of."""
