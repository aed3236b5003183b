"""Districts, two-new organizations and party branches."""
