"""`load_catalog`: validate everything, write all or nothing, never lose a version."""

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assessments.catalog_loader import CATALOG_DIR
from assessments.models import CatalogTest

pytestmark = pytest.mark.django_db


def _copy(tmp_path: Path, *slugs: str) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir(exist_ok=True)
    for slug in slugs:
        shutil.copy(CATALOG_DIR / f"{slug}.json", folder / f"{slug}.json")
    return folder


def _edit(folder: Path, slug: str, change) -> None:
    path = folder / f"{slug}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_built_in_catalog_loads_22_hire_eligible_tests(capsys):
    call_command("load_catalog")
    current = CatalogTest.objects.current()
    assert current.count() == len(list(CATALOG_DIR.glob("*.json")))
    eligible = current.hire_eligible()
    assert eligible.count() == 22
    for test in eligible:
        for dim in test.definition["dimensions"]:
            assert dim["norms"]["sd"] > 0 and dim["norms"]["source"], (test.slug, dim["key"])
            assert 0 < dim["reliability"]["alpha"] < 1 and dim["reliability"]["source"]
        assert test.definition["source"]["licence"], test.slug
    assert "22 hire-eligible" in capsys.readouterr().out


def test_loading_twice_changes_nothing(capsys):
    call_command("load_catalog")
    first = dict(CatalogTest.objects.values_list("slug", "loaded_at"))
    call_command("load_catalog")
    assert dict(CatalogTest.objects.values_list("slug", "loaded_at")) == first
    assert "0 new, 0 updated" in capsys.readouterr().out


def test_a_bad_file_stops_the_whole_load_and_names_file_and_field(tmp_path, capsys):
    folder = _copy(tmp_path, "big-five-ipip-50", "self-efficacy-ipip")

    def break_it(data):
        data["items"][0]["dimension"] = "no_such_dimension"
        data["dimensions"][0]["norms"]["sd"] = 0

    _edit(folder, "self-efficacy-ipip", break_it)
    with pytest.raises(CommandError, match="catalog not loaded"):
        call_command("load_catalog", "--path", str(folder))
    err = capsys.readouterr().err
    assert "self-efficacy-ipip.json" in err
    assert "no_such_dimension" in err
    assert "sd" in err
    assert CatalogTest.objects.count() == 0


def test_duplicate_item_ids_are_a_load_error(tmp_path, capsys):
    folder = _copy(tmp_path, "big-five-mini-ipip-20")
    _edit(folder, "big-five-mini-ipip-20",
          lambda d: d["items"][1].update(id=d["items"][0]["id"]))
    with pytest.raises(CommandError):
        call_command("load_catalog", "--path", str(folder))
    assert "big-five-mini-ipip-20.json" in capsys.readouterr().err


def test_a_new_version_keeps_the_old_one_and_becomes_current(tmp_path):
    folder = _copy(tmp_path, "self-efficacy-ipip")
    call_command("load_catalog", "--path", str(folder))
    old = CatalogTest.objects.get()
    _edit(folder, "self-efficacy-ipip",
          lambda d: d.update(version=f"{d['version']}-next", instructions="New words."))
    call_command("load_catalog", "--path", str(folder))
    versions = CatalogTest.objects.filter(slug="self-efficacy-ipip")
    assert versions.count() == 2
    assert versions.get(is_current=True).version == f"{old.version}-next"
    old.refresh_from_db()
    assert old.is_current is False and old.retired_at is None


def test_unreferenced_content_is_updated_in_place(tmp_path):
    folder = _copy(tmp_path, "self-efficacy-ipip")
    call_command("load_catalog", "--path", str(folder))
    _edit(folder, "self-efficacy-ipip", lambda d: d.update(instructions="Reworded."))
    call_command("load_catalog", "--path", str(folder))
    test = CatalogTest.objects.get()
    assert test.definition["instructions"] == "Reworded."


def test_a_test_whose_file_is_gone_is_retired_not_deleted(tmp_path):
    folder = _copy(tmp_path, "self-efficacy-ipip", "big-five-mini-ipip-20")
    call_command("load_catalog", "--path", str(folder))
    (folder / "big-five-mini-ipip-20.json").unlink()
    call_command("load_catalog", "--path", str(folder))
    gone = CatalogTest.objects.get(slug="big-five-mini-ipip-20")
    assert gone.retired_at is not None and gone.is_current is False


def test_a_slug_that_does_not_match_its_file_name_is_refused(tmp_path, capsys):
    folder = _copy(tmp_path, "self-efficacy-ipip")
    (folder / "self-efficacy-ipip.json").rename(folder / "other-name.json")
    with pytest.raises(CommandError):
        call_command("load_catalog", "--path", str(folder))
    assert "must match the file name" in capsys.readouterr().err
