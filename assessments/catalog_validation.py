"""Check a catalog test file before it is loaded, and say exactly what is wrong where.

Catalog files are written by hand from research sources; a typo in a key or a dimension name
would otherwise surface as a wrong score or a 500 when a candidate finishes. This reports every
problem at once, each naming the file and the field (with the item id or dimension key), so the
author can fix a file in one pass. Pure: takes the parsed dict, returns messages.

    python -m assessments.catalog_validation assessments/catalog/*.json
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from assessments.scoring.compile import MULTIPLE_CHOICE, compile_uncached, likert_points
from assessments.scoring.errors import CatalogError

__all__ = ["CATALOG_SCHEMA_PATH", "main", "validate_catalog_test"]

CATALOG_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "catalog_test.schema.json"
_REQUIRED = re.compile(r"^'(?P<name>.+)' is a required property$")
_LIKERT_METRICS = ("sum", "mean")
_ABILITY_METRICS = ("number_correct",)


def validate_catalog_test(data: Any, filename: str) -> list[str]:
    """Human-readable problems with one catalog test ("<file>: <field>: <problem>"); [] if none."""
    if not isinstance(data, dict):
        return [f"{filename}: (top level): must be a JSON object, not {type(data).__name__}"]
    errors = [_schema_message(error, data) for error in _schema_errors(data)]
    errors.extend(_semantic_problems(data))
    if not errors:
        try:
            compile_uncached(data)
        except (CatalogError, KeyError, TypeError, ValueError) as exc:
            errors.append(f"(engine): {exc}")
    return [f"{filename}: {message}" for message in errors]


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(CATALOG_SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _schema_errors(data: dict[str, Any]) -> Iterable[ValidationError]:
    return sorted(_validator().iter_errors(data), key=_path_order)


def _path_order(error: ValidationError) -> list[tuple[int, str]]:
    """Sort items[2] before items[10]: positions numerically, names alphabetically."""
    return [(p, "") if isinstance(p, int) else (-1, str(p)) for p in error.absolute_path]


def _schema_message(error: ValidationError, data: dict[str, Any]) -> str:
    if list(error.absolute_path) == ["response_format", "type"] and error.validator == "anyOf":
        return (
            "response_format.type: must be 'likert_<k>' (e.g. 'likert_5') or 'multiple_choice', "
            f"got {error.instance!r}"
        )
    if error.context:
        error = best_match(error.context)
    path = list(error.absolute_path)
    message = error.message
    required = _REQUIRED.match(message) if error.validator == "required" else None
    if required:
        path.append(required.group("name"))
        message = "is required"
    return f"{_field(path, data)}: {message}"


def _field(path: Sequence[Any], data: dict[str, Any]) -> str:
    """items[3].keyed (item 'E4') - the position for an editor, the id for a person."""
    if not path:
        return "(top level)"
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    hint = ""
    if len(path) >= 2 and isinstance(path[1], int):
        collection = data.get(path[0])
        if isinstance(collection, list) and path[1] < len(collection):
            entry = collection[path[1]]
            if isinstance(entry, dict):
                if path[0] == "items" and isinstance(entry.get("id"), str):
                    hint = f" (item {entry['id']!r})"
                elif isinstance(entry.get("key"), str):
                    hint = (
                        f" ({'dimension' if path[0] == 'dimensions' else 'entry'} {entry['key']!r})"
                    )
    return out + hint


def _semantic_problems(data: dict[str, Any]) -> list[str]:
    """Rules that need more than one field at a time. Written defensively: the schema errors
    already describe structural damage, so anything of the wrong shape is skipped here."""
    problems: list[str] = []
    dims = [d for d in _list(data.get("dimensions")) if isinstance(d, dict)]
    items = [i for i in _list(data.get("items")) if isinstance(i, dict)]
    response = data.get("response_format") if isinstance(data.get("response_format"), dict) else {}
    response_type = response.get("type") if isinstance(response.get("type"), str) else ""
    points = likert_points(response_type)
    ability = response_type == MULTIPLE_CHOICE

    dim_at: dict[str, int] = {}
    for i, dim in enumerate(_list(data.get("dimensions"))):
        key = dim.get("key") if isinstance(dim, dict) else None
        if not isinstance(key, str):
            continue
        if key in dim_at:
            problems.append(
                f"dimensions[{i}].key: duplicate dimension key {key!r} "
                f"(also dimensions[{dim_at[key]}])"
            )
        else:
            dim_at[key] = i

    item_at: dict[str, int] = {}
    per_dimension: dict[str, int] = {}
    for i, item in enumerate(_list(data.get("items"))):
        if not isinstance(item, dict):
            continue
        item_id = item.get("id")
        hint = f" (item {item_id!r})" if isinstance(item_id, str) else ""
        if isinstance(item_id, str):
            if item_id in item_at:
                problems.append(
                    f"items[{i}].id: duplicate item id {item_id!r} (also items[{item_at[item_id]}])"
                )
            else:
                item_at[item_id] = i
        dimension = item.get("dimension")
        if isinstance(dimension, str):
            if dimension in dim_at:
                per_dimension[dimension] = per_dimension.get(dimension, 0) + 1
            else:
                known = ", ".join(dim_at) or "none"
                problems.append(
                    f"items[{i}].dimension{hint}: unknown dimension {dimension!r} "
                    f"(dimensions: {known})"
                )
        if ability:
            problems.extend(_option_problems(item, f"items[{i}]", hint))

    for key, i in dim_at.items():
        dim = dims[i] if i < len(dims) else {}
        where, hint = f"dimensions[{i}]", f" (dimension {key!r})"
        count = per_dimension.get(key, 0)
        if not count:
            problems.append(f"{where}{hint}: no item belongs to this dimension")
        declared = dim.get("n_items")
        if isinstance(declared, int) and count and declared != count:
            problems.append(
                f"{where}.n_items{hint}: says {declared} but {count} items belong to it"
            )
        problems.extend(_norm_problems(dim.get("norms"), where, hint, ability, points is not None))

    declared_total = data.get("n_items")
    if isinstance(declared_total, int) and items and declared_total != len(items):
        problems.append(f"n_items: says {declared_total} but the file has {len(items)} items")

    primary = data.get("primary_dimension")
    if isinstance(primary, str) and primary not in dim_at:
        known = ", ".join(dim_at) or "none"
        problems.append(f"primary_dimension: {primary!r} is not a dimension key ({known})")

    if points is not None:
        problems.extend(_likert_code_problems(response, points))

    for i, composite in enumerate(_list(data.get("composites"))):
        if not isinstance(composite, dict):
            continue
        for facet in _list(composite.get("facets")):
            if isinstance(facet, str) and facet not in dim_at:
                problems.append(f"composites[{i}].facets: {facet!r} is not a dimension key")

    example = data.get("example_item")
    if isinstance(example, dict):
        if example.get("id") in item_at:
            problems.append(
                f"example_item.id: {example['id']!r} is also a scored item's id; the example "
                "must not share a form field name with a real item"
            )
        if ability:
            problems.extend(_option_problems(example, "example_item", ""))
    return problems


def _option_problems(item: dict[str, Any], where: str, hint: str) -> list[str]:
    options = [o for o in _list(item.get("options")) if isinstance(o, dict)]
    keys = [o.get("key") for o in options if isinstance(o.get("key"), str)]
    problems = []
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        problems.append(f"{where}.options{hint}: duplicate option keys {', '.join(duplicates)}")
    answer = item.get("answer")
    if isinstance(answer, str) and keys and answer not in keys:
        problems.append(
            f"{where}.answer{hint}: {answer!r} is not among its option keys ({', '.join(keys)})"
        )
    return problems


def _norm_problems(norms: Any, where: str, hint: str, ability: bool, likert: bool) -> list[str]:
    if not isinstance(norms, dict):
        return []
    mean, sd, metric = norms.get("mean"), norms.get("sd"), norms.get("metric")
    if (mean is None) != (sd is None):
        return [f"{where}.norms{hint}: mean and sd must both be numbers or both be null"]
    if mean is None:
        return []
    problems = []
    if _number(sd) and sd <= 0:
        problems.append(f"{where}.norms.sd{hint}: must be > 0, got {sd!r}")
    if likert and metric not in _LIKERT_METRICS:
        problems.append(f"{where}.norms.metric{hint}: a Likert test is normed on 'sum' or "
                        f"'mean', not {metric!r}")  # fmt: skip
    if ability and metric not in _ABILITY_METRICS:
        problems.append(f"{where}.norms.metric{hint}: an ability test is normed on "
                        f"'number_correct', not {metric!r}")  # fmt: skip
    return problems


def _likert_code_problems(response: dict[str, Any], points: int) -> list[str]:
    """Response codes are the option values, and the engine accepts exactly 1..k."""
    options = _list(response.get("options"))
    values = [o.get("value") for o in options if isinstance(o, dict)]
    if not values:
        return []
    if points < 2:
        return [f"response_format.type: likert_{points} needs at least 2 points"]
    expected = list(range(1, points + 1))
    if sorted(v for v in values if isinstance(v, int)) != expected or len(values) != points:
        return [
            f"response_format.options: likert_{points} needs option values exactly "
            f"{expected[0]}..{expected[-1]}, once each; got {values}"
        ]
    return []


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def main(argv: Sequence[str] | None = None) -> int:
    """Validate files given on the command line; print problems; exit 1 if there were any."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m assessments.catalog_validation FILE.json...", file=sys.stderr)
        return 2
    problems: list[str] = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: (file): cannot read JSON: {exc}")
            continue
        problems.extend(validate_catalog_test(data, path))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
