"""Monthly PDF reports: made on schedule and on demand, kept in versions, downloaded by right."""
