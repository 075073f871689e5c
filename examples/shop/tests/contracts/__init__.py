"""Contract tests: one set of test methods inherited by one class per backend."""
