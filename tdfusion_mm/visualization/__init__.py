"""Populated by later modules."""
