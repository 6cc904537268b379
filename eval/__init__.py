"""Evaluation harness, baseline, gold sets and benchmarks."""
