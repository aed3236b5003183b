"""What every page shares: health check, error pages, template helpers."""
