"""Workable: the Assessments Provider API (Workable calls us; we PUT results to its callback).

Modules: `views`/`urls` (the provider endpoints `tests`, `assessments`, `assessments/<id>/
shared-link`, Bearer with our partner key), `payloads` (every Workable field name, in and out),
`callbacks` (status changes → outbox → `PUT <callback_url>`, never regressing), `client` (the
PUT with the token Workable issued), `adapter` (the interface the rest of Assay calls), `fake`
(a runnable fake Workable). How to connect and what was decided: docs/workable.md.
"""
