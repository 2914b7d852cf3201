"""One invitation's results, read the same way for every ATS (DESIGN §3.7).

Partner ATSes get one answer per assessment, and an assessment may be a package of several
tests, so their adapters read the envelopes through these helpers: the overall score (the
first test's overall, else its first scored dimension), each dimension's integer score labelled
for a person, the report link and the time taken. Field names of any ATS stay in its package.
"""

from __future__ import annotations

from django.conf import settings


def envelopes(invitation) -> list[dict]:
    """The invitation's result envelopes in test order."""
    return [r.envelope for r in invitation.results.order_by("attempt__invitation_test__position")]


def overall_score(envelopes: list[dict]) -> int | None:
    for envelope in envelopes:
        overall = (envelope.get("overall") or {}).get("score")
        if overall is not None:
            return overall
    for envelope in envelopes:
        for dim in envelope["dimensions"]:
            if dim.get("score") is not None:
                return dim["score"]
    return None


def dimension_scores(envelopes: list[dict]) -> list[tuple[str, str, int]]:
    """(key, label, score) per scored dimension; labels name the test when there are several."""
    several = len(envelopes) > 1
    rows = []
    for envelope in envelopes:
        for dim in envelope["dimensions"]:
            if dim.get("score") is None:
                continue
            key = f"{envelope['test']['slug']}.{dim['key']}" if several else dim["key"]
            label = f"{envelope['test']['name']}: {dim['name']}" if several else dim["name"]
            rows.append((key, label, dim["score"]))
    return rows


def duration_seconds(envelopes: list[dict]) -> int:
    return sum(int(e.get("duration_seconds") or 0) for e in envelopes)


def report_url(invitation) -> str:
    """The report of the whole invitation (every test), for org members (DESIGN §3.3 /r/)."""
    return f"{settings.SITE_URL}/r/{invitation.public_id}"


def summary_text(envelopes: list[dict]) -> str:
    """A few readable lines: each test, its overall, each dimension's percentile and band."""
    lines = []
    for envelope in envelopes:
        overall = (envelope.get("overall") or {}).get("score")
        lines.append(envelope["test"]["name"] + (f" — overall {overall}" if overall else ""))
        for dim in envelope["dimensions"]:
            if dim.get("percentile") is not None:
                lines.append(f"  {dim['name']}: score {dim['score']}, percentile "
                             f"{dim['percentile']}, {dim['band']}")
        flags = (envelope.get("quality") or {}).get("flags") or []
        if flags:
            lines.append(f"  Quality flags: {', '.join(flags)}")
    return "\n".join(lines)
