"""Runs: start one (one path for every door), its lifecycle, records, queries, stats and retention.
"""
