"""The demo: a deterministic, realistic 赣州 dataset for trying the product and for benchmarks."""
