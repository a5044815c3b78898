"""Datasets: JSONL manifests, corpus importers, validation, splits, batching, synthetic speech."""
