"""Candidate pages (candidate.py)."""
