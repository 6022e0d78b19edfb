"""`GRASSROOTS_LOAD_AS=LOGIN grassroots load …`: a load on an account's behalf stays inside its scope."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from graph.driver import Graph
from graph.settings import Settings
from tests.helpers import FINGERPRINT, ensure_account, run_cli

HEADER = "编码,名称,所属社区编码\n"


def _grids(folder: Path, *rows: tuple[str, str, str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "Grid.csv").write_text(HEADER + "".join(f"{a},{b},{c}\n" for a, b, c in rows), encoding="utf-8")
    return folder


async def _load(settings: Settings, folder: Path, login: str | None) -> Any:
    env = {"GRASSROOTS_LOAD_AS": login} if login else {}
    return await asyncio.to_thread(run_cli, settings, "load", str(folder), env=env)


async def test_a_load_as_an_account_refuses_rows_outside_its_scope(
    graph: Graph, settings: Settings, small: dict[str, Any], tmp_path: Path
) -> None:
    mine, other = (c["code"] for c in small["data"].rows["Community"][:2])
    await ensure_account(graph, "loader.mine", "editor", mine)
    await ensure_account(graph, "viewer.mine", "viewer", mine)
    folder = _grids(tmp_path / "mixed", (f"WG-{mine}-90", "新网格甲", mine), (f"WG-{other}-90", "新网格乙", other))
    before = (await graph.read_rows(FINGERPRINT))[0]["nodes"]
    refused = await _load(settings, folder, "loader.mine")
    assert refused.returncode == 1
    assert f"WG-{other}-90" in refused.stderr
    assert "不在账号 loader.mine 的范围" in refused.stderr
    assert f"WG-{mine}-90" not in refused.stderr.replace(f"WG-{other}-90", "")  # only the outside row is named
    assert (await graph.read_rows(FINGERPRINT))[0]["nodes"] == before  # nothing written
    viewer = await _load(settings, folder, "viewer.mine")
    assert viewer.returncode == 1
    assert "不能导入" in viewer.stderr
    inside = _grids(tmp_path / "inside", (f"WG-{mine}-90", "新网格甲", mine))
    loaded = await _load(settings, inside, "loader.mine")
    assert loaded.returncode == 0, loaded.stderr
    rows = await graph.read_rows("MATCH (g:Grid {code: $c}) RETURN g.name AS name", {"c": f"WG-{mine}-90"})
    assert rows == [{"name": "新网格甲"}]
    # the operator's own load (no GRASSROOTS_LOAD_AS) stays trusted
    assert (await _load(settings, folder, None)).returncode == 0
