"""Benchmarks: ``python -m bench`` runs them all; each module has ``main() -> int``."""
