"""The generated city: deterministic, every gap kind injected, counts matching its rows."""

from __future__ import annotations

from datetime import date

from core.codes import check_id_number, check_uscc
from core.model import GAP_KINDS, SHEETS
from loaders.demo import generate, manifest

AS_OF = date(2026, 11, 1)


def test_small_is_deterministic_and_injects_every_gap_kind() -> None:
    first = manifest(generate("small", 3, AS_OF))
    assert manifest(generate("small", 3, AS_OF)) == first
    assert manifest(generate("small", 4, AS_OF)) != first
    assert set(first["gaps"]) == set(GAP_KINDS)
    assert all(count > 0 for count in first["gaps"].values()), first["gaps"]
    assert first["entities"]["Street"] == 1


def test_manifest_counts_are_the_rows_and_codes_are_valid() -> None:
    ds = generate("small", 5, AS_OF)
    m = manifest(ds)
    assert m["entities"] == {s.key: len(ds.rows.get(s.key, [])) for s in SHEETS}
    assert all(check_uscc(r["credit_code"]) is None for r in ds.rows["Unit"])
    assert all(check_id_number(r["id_number"]) is None for r in ds.rows["PartyMember"])
    households = {}
    for r in ds.rows["Household"]:
        households[r["code"][3:15]] = households.get(r["code"][3:15], 0) + 1
    out_of_range = sum(1 for n in households.values() if not 3000 <= n <= 5000)
    assert out_of_range == m["gaps"]["community_size_out_of_range"]
