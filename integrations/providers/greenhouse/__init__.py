"""Greenhouse Assessment Partner API: our partner endpoints and the fake Greenhouse."""
