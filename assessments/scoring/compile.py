"""Turn a catalog test dict into an immutable form the hot scoring loop can walk cheaply.

A catalog dict is convenient to author and to store, but scoring straight from it would mean
string comparisons on "keyed", searching dimension lists and converting norms on every call.
Compiling once per (slug, version) moves all of that out of the request path: scoring the
120-item test becomes a dict lookup and an integer add per answer.

Compilation checks only what scoring depends on and fails fast with CatalogError; the full,
friendly check of a catalog file (every error at once, named by file and field) is
assessments.catalog_validation, which the catalog loader runs first.

The cache is keyed by (slug, version), so a catalog edit that changes scoring must bump the
version - which it must anyway, because stored results name the version they were scored with.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from .errors import CatalogError
from .norms import CI90_Z, sem_t

__all__ = [
    "ABILITY",
    "LIKERT",
    "CompiledDimension",
    "CompiledTest",
    "clear_compiled_cache",
    "compile_test",
    "compile_uncached",
    "likert_points",
]

LIKERT = "likert"
ABILITY = "ability"
MULTIPLE_CHOICE = "multiple_choice"
_LIKERT_PREFIX = "likert_"


@dataclass(frozen=True, slots=True)
class CompiledDimension:
    """A dimension with its norm already on the metric the engine scores in.

    ``norm_mean``/``norm_sd`` are on the item-mean metric for Likert tests (a catalog "sum" norm
    divided by the number of items) and on number correct for ability tests; both are None when
    the catalog has no norm for the dimension.
    """

    key: str
    name: str
    index: int
    n_items: int
    norm_mean: float | None
    norm_sd: float | None
    norm_source: str | None
    reliability: float | None
    sem_t: float | None
    ci90_half_width: float | None


@dataclass(frozen=True, slots=True)
class CompiledTest:
    slug: str
    version: str
    name: str
    evidence: str | None
    kind: str
    points: int
    item_ids: tuple[str, ...]
    item_index: Mapping[str, int]
    item_dimension: tuple[int, ...]
    item_reversed: tuple[bool, ...]
    likert_codes: Mapping[Any, int]
    item_options: tuple[Mapping[str, int], ...]
    dimensions: tuple[CompiledDimension, ...]
    primary_dimension: int | None
    min_seconds_per_item: float | None
    norm_group: str | None
    norm_source: str | None

    @property
    def n_items(self) -> int:
        return len(self.item_ids)


_CACHE: dict[tuple[str, str], CompiledTest] = {}
_CACHE_LOCK = threading.Lock()


def compile_test(test: Mapping[str, Any] | CompiledTest) -> CompiledTest:
    """Compiled form of ``test``, built once per (slug, version) and reused."""
    if isinstance(test, CompiledTest):
        return test
    try:
        key = (test["slug"], test["version"])
    except (KeyError, TypeError) as exc:
        raise CatalogError("a catalog test needs 'slug' and 'version' to be compiled") from exc
    if not all(isinstance(part, str) and part for part in key):
        raise CatalogError(f"a catalog test's slug and version must be non-empty strings: {key}")
    compiled = _CACHE.get(key)
    if compiled is None:
        compiled = compile_uncached(test)
        with _CACHE_LOCK:
            compiled = _CACHE.setdefault(key, compiled)
    return compiled


def clear_compiled_cache() -> None:
    """Forget every compiled test (tests, and a catalog reload in a long-lived process)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def likert_points(response_type: str) -> int | None:
    """k for "likert_<k>", else None."""
    if not response_type.startswith(_LIKERT_PREFIX):
        return None
    digits = response_type[len(_LIKERT_PREFIX) :]
    if not digits.isdigit() or not digits.isascii():
        return None
    return int(digits)


def compile_uncached(test: Mapping[str, Any]) -> CompiledTest:
    """Compile without touching the cache (catalog validation uses it as a last check)."""
    slug = test["slug"]
    where = f"test {slug!r}"
    response_type = _get(test, "response_format", where).get("type")
    if not isinstance(response_type, str):
        raise CatalogError(f"{where}: response_format.type is missing")
    points = likert_points(response_type)
    if points is not None:
        kind = LIKERT
        if points < 2:
            raise CatalogError(f"{where}: {response_type!r} needs at least 2 points")
    elif response_type == MULTIPLE_CHOICE:
        kind = ABILITY
        points = 0
    else:
        raise CatalogError(f"{where}: unsupported response_format.type {response_type!r}")

    raw_dims = _get(test, "dimensions", where)
    dim_index: dict[str, int] = {}
    for i, dim in enumerate(raw_dims):
        key = dim.get("key")
        if not isinstance(key, str) or key in dim_index:
            raise CatalogError(f"{where}: dimensions[{i}] has a missing or duplicate key {key!r}")
        dim_index[key] = i

    item_ids: list[str] = []
    item_index: dict[str, int] = {}
    item_dimension: list[int] = []
    item_reversed: list[bool] = []
    item_options: list[Mapping[str, int]] = []
    for i, item in enumerate(_get(test, "items", where)):
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id or item_id in item_index:
            raise CatalogError(f"{where}: items[{i}] has a missing or duplicate id {item_id!r}")
        dim = dim_index.get(item.get("dimension"))
        if dim is None:
            raise CatalogError(
                f"{where}: item {item_id!r} names unknown dimension {item.get('dimension')!r}"
            )
        item_index[item_id] = i
        item_ids.append(item_id)
        item_dimension.append(dim)
        if kind == LIKERT:
            keyed = item.get("keyed")
            if keyed not in ("+", "-"):
                raise CatalogError(f"{where}: item {item_id!r} needs keyed '+' or '-'")
            item_reversed.append(keyed == "-")
        else:
            item_options.append(_option_key(item, item_id, where))

    if not item_ids:
        raise CatalogError(f"{where}: has no items")
    counts = [0] * len(raw_dims)
    for dim in item_dimension:
        counts[dim] += 1

    dimensions = tuple(
        _compile_dimension(raw, i, counts[i], kind, where) for i, raw in enumerate(raw_dims)
    )
    if test.get("evidence") == "experimental":
        # Experimental tests report raw scores only, whatever norms their file carries: their
        # norms (if any) have not met the catalog's standard, so no percentile may leave Assay.
        dimensions = tuple(
            replace(d, norm_mean=None, norm_sd=None, norm_source=None, sem_t=None,
                    ci90_half_width=None) for d in dimensions)

    primary_key = test.get("primary_dimension")
    primary = None
    if primary_key is not None:
        primary = dim_index.get(primary_key)
        if primary is None:
            raise CatalogError(f"{where}: primary_dimension {primary_key!r} is not a dimension")

    floor = test.get("min_seconds_per_item")
    sources = list(dict.fromkeys(d.norm_source for d in dimensions if d.norm_mean is not None))
    normed = any(d.norm_mean is not None for d in dimensions)
    codes: dict[Any, int] = {}
    if kind == LIKERT:
        for value in range(1, points + 1):
            codes[value] = value
            codes[str(value)] = value

    return CompiledTest(
        slug=slug,
        version=test["version"],
        name=test.get("name", slug),
        evidence=test.get("evidence"),
        kind=kind,
        points=points,
        item_ids=tuple(item_ids),
        item_index=MappingProxyType(item_index),
        item_dimension=tuple(item_dimension),
        item_reversed=tuple(item_reversed),
        likert_codes=MappingProxyType(codes),
        item_options=tuple(item_options),
        dimensions=dimensions,
        primary_dimension=primary,
        min_seconds_per_item=None if floor is None else float(floor),
        norm_group=test.get("norm_group") or ("general" if normed else None),
        norm_source="; ".join(s for s in sources if s) or None,
    )


def _get(container: Mapping[str, Any], field: str, where: str) -> Any:
    try:
        return container[field]
    except (KeyError, TypeError) as exc:
        raise CatalogError(f"{where}: {field!r} is missing") from exc


def _option_key(item: Mapping[str, Any], item_id: str, where: str) -> Mapping[str, int]:
    """Option key -> 1 for the keyed answer, 0 otherwise, so scoring is one lookup."""
    options = item.get("options")
    answer = item.get("answer")
    if not isinstance(options, list) or not options:
        raise CatalogError(f"{where}: item {item_id!r} has no options")
    keys = [opt.get("key") if isinstance(opt, Mapping) else None for opt in options]
    if any(not isinstance(k, str) or not k for k in keys) or len(set(keys)) != len(keys):
        raise CatalogError(f"{where}: item {item_id!r} has missing or duplicate option keys")
    if answer not in keys:
        raise CatalogError(f"{where}: item {item_id!r} answer {answer!r} is not an option key")
    return MappingProxyType({k: int(k == answer) for k in keys})


def _compile_dimension(
    raw: Mapping[str, Any], index: int, n_items: int, kind: str, where: str
) -> CompiledDimension:
    key = raw["key"]
    if n_items == 0:
        raise CatalogError(f"{where}: dimension {key!r} has no items")
    norms = raw.get("norms")
    mean = sd = None
    source = None
    if norms is not None and (norms.get("mean") is not None or norms.get("sd") is not None):
        mean, sd = norms.get("mean"), norms.get("sd")
        metric = norms.get("metric")
        if not _is_number(mean) or not _is_number(sd) or sd <= 0:
            raise CatalogError(f"{where}: dimension {key!r} norms need a mean and an sd > 0")
        if kind == LIKERT and metric == "sum":
            mean, sd = mean / n_items, sd / n_items
        elif not (kind == LIKERT and metric == "mean") and not (
            kind == ABILITY and metric == "number_correct"
        ):
            raise CatalogError(f"{where}: dimension {key!r} norm metric {metric!r} does not fit")
        mean, sd = float(mean), float(sd)
        source = norms.get("source")

    reliability = (raw.get("reliability") or {}).get("alpha")
    sem = half = None
    if reliability is not None:
        if not _is_number(reliability) or not 0.0 <= reliability <= 1.0:
            raise CatalogError(f"{where}: dimension {key!r} reliability must be within 0..1")
        reliability = float(reliability)
        sem = sem_t(reliability)
        half = CI90_Z * sem

    return CompiledDimension(
        key=key,
        name=raw.get("name", key),
        index=index,
        n_items=n_items,
        norm_mean=mean,
        norm_sd=sd,
        norm_source=source,
        reliability=reliability,
        sem_t=sem,
        ci90_half_width=half,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
