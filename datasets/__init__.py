"""Benchmark files with their licenses and provenance (installed as hybrid_trm.datasets)."""
