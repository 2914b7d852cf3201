"""Ashby: the assessment partner integration (Ashby calls us; we call assessment.update)."""
