"""Triggers: take a caller's request apart, authenticate and rate-limit it, manage and check triggers.
"""
