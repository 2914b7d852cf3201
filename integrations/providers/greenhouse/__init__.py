"""Greenhouse Assessment Partner API: our partner endpoints and the fake Greenhouse.

Greenhouse calls us (brief §3): `list_tests`, `send_test`, `test_status` and `response_error`,
with the org's partner key as the Basic username and an empty password. We answer `send_test`
at once with our assessment id and email the candidate through Celery; on completion (and after
a recruiter's verdict) we PATCH the `url` Greenhouse gave us, with the same key and no body, and
Greenhouse then reads `test_status`, which already holds the final data.

Modules: `adapter` (the thin part the rest of Assay calls, and the outbox items), `views` +
`urls` (the four endpoints), `inbound` (reading a send_test body), `payloads` (every Greenhouse
field name we write), `callback` (the PATCH delivery), `client` (the HTTP call), `fake` (a
runnable fake Greenhouse for tests and the demo).
"""
