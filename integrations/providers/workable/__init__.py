"""Workable: the Assessments Provider API (Workable calls us; we PUT results to its callback)."""
