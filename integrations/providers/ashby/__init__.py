"""Ashby: the assessment partner integration (Ashby calls us; we call assessment.update).

Ashby calls our partner endpoints (`views.py`: assessment.list / .start / .cancel, HTTP Basic
with the partner key in either field); we push progress and results back with
`assessment.update` through the outbox (`updates.py`), authenticated with the customer's Ashby
API key (`client.py`). Ashby's field names live only here: `payloads.py` (what Ashby receives),
`inbound.py` (what Ashby sends). `throttle.py` keeps Ashby's partner-wide 429 (every
organisation at once) in Redis. docs/ashby.md says how to connect and what was decided.
"""
