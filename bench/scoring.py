"""Scoring latency for the largest catalog test (DESIGN §5: <= 1 ms p99; our target 0.2 ms).

    python bench/scoring.py [--iterations 20000] [--seed 1]

Times score_test per call with perf_counter_ns over pre-generated random full answer sets,
and, in the same run, a bare loop that touches every answer of the same sets (the floor a
scoring call cannot beat), so the figures are read as a ratio that holds across machines. Also
times build_envelope (rounding included) and validate_envelope, which run once per result but
are not part of the 1 ms budget. No asserts: this reports, CI does not gate on timing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessments.envelope import build_envelope, validate_envelope  # noqa: E402
from assessments.scoring import compile_test, score_test  # noqa: E402
from assessments.scoring.samples import random_answers, upgrade_research_pack  # noqa: E402

FALLBACKS = [
    ROOT.parent / "shared" / "catalog" / "tests" / "big-five-ipip-neo-120.json",
    Path("/work/shared/catalog/tests/big-five-ipip-neo-120.json"),
]


def load_largest_test() -> tuple[dict, str]:
    files = sorted((ROOT / "assessments" / "catalog").glob("*.json"))
    if files:
        tests = [(json.loads(p.read_text(encoding="utf-8")), str(p)) for p in files]
        return max(tests, key=lambda pair: len(pair[0]["items"]))
    for path in FALLBACKS:
        if path.exists():
            return upgrade_research_pack(json.loads(path.read_text(encoding="utf-8"))), str(path)
    raise SystemExit("no catalog test found (assessments/catalog/*.json or the research pack)")


def percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def time_calls(fn, inputs: list, iterations: int) -> list[int]:
    samples = []
    clock = time.perf_counter_ns
    n = len(inputs)
    for i in range(iterations):
        arg = inputs[i % n]
        start = clock()
        fn(arg)
        samples.append(clock() - start)
    samples.sort()
    return samples


def bare_loop(answers: dict) -> int:
    """Touch every answer once: the least work any scorer must do."""
    total = 0
    for _item_id, code in answers.items():
        total += code
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    test, source = load_largest_test()
    rng = random.Random(args.seed)
    answer_sets = [random_answers(test, rng) for _ in range(1_000)]
    timings = {item_id: 4.0 for item_id in answer_sets[0]}
    compiled = compile_test(test)  # warm the cache, as a long-lived worker would be

    for answers in answer_sets[:200]:  # warm-up
        score_test(test, answers)
        bare_loop(answers)

    floor = time_calls(bare_loop, answer_sets, args.iterations)
    scored = time_calls(lambda a: score_test(test, a), answer_sets, args.iterations)
    timed = time_calls(lambda a: score_test(test, a, timings), answer_sets, args.iterations)

    start = datetime(2025, 1, 1, tzinfo=UTC)
    results = [score_test(test, a) for a in answer_sets]

    def envelope(result):
        return build_envelope(
            result,
            result_id="r",
            invitation_id="i",
            sandbox=False,
            candidate_external_id=None,
            candidate_source="bench",
            started_at=start,
            completed_at=start + timedelta(minutes=15),
            report_url="https://assay.example/r/r",
        )

    built = time_calls(envelope, results, max(1, args.iterations // 4))
    envelopes = [envelope(r) for r in results[:100]]
    checked = time_calls(validate_envelope, envelopes, max(1, args.iterations // 40))

    wall = time.perf_counter()
    for answers in answer_sets * 10:
        score_test(test, answers)
    per_second = len(answer_sets) * 10 / (time.perf_counter() - wall)

    def row(name: str, samples: list[int]) -> str:
        p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
        mean = statistics.fmean(samples) / 1000.0
        return f"{name:<34} p50 {p50:8.1f} us   p99 {p99:8.1f} us   mean {mean:8.1f} us"

    print(f"test: {test['slug']} v{test['version']} ({compiled.n_items} items, "
          f"{len(compiled.dimensions)} dimensions) from {source}")  # fmt: skip
    print(f"python {sys.version.split()[0]}, {args.iterations} iterations, seed {args.seed}")
    print(row("bare loop over answers (floor)", floor))
    print(row("score_test", scored))
    print(row("score_test + item timings", timed))
    print(row("build_envelope", built))
    print(row("validate_envelope (jsonschema)", checked))
    ratio50 = percentile(scored, 0.50) / percentile(floor, 0.50)
    ratio99 = percentile(scored, 0.99) / percentile(floor, 0.99)
    print(f"score_test / floor: p50 x{ratio50:.1f}, p99 x{ratio99:.1f}")
    print(f"throughput: {per_second:,.0f} scores/s on one core")
    budget = percentile(scored, 0.99) / 1000.0
    print(f"p99 uses {budget * 100:.1f} % of the 1 ms budget (target p99 < 0.2 ms)")


if __name__ == "__main__":
    main()
