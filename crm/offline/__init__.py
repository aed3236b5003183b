"""离线: the pages an instructor's phone keeps, so the work goes on with no signal."""
