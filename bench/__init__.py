"""`make bench`: speed and memory figures, written to bench/results.json (never asserted in tests)."""
