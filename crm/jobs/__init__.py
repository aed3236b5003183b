"""The scheduler process: monthly reports, batches asked for from the web, the nightly sweep."""
