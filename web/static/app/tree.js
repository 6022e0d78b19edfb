// The area tree (city → district → street → community → grid), searchable; picking a row picks the scope. It
// starts at the signed-in caller's scope: the areas above it are shown apart, by code and name only.
import { GRIDS, SEARCH, gql } from "./api.js";

export const LEVELS = {
  city: { type: "City", name: "市" },
  district: { type: "District", name: "区" },
  street: { type: "Street", name: "街道" },
  community: { type: "Community", name: "社区" },
  grid: { type: "Grid", name: "网格" },
};
const LEVEL_OF_TYPE = Object.fromEntries(Object.entries(LEVELS).map(([level, l]) => [l.type, level]));
const CHILD = { city: "districts", district: "streets", street: "communities" };
const NEXT = { city: "district", district: "street", street: "community", community: "grid" };

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class AreaTree {
  /** `onPick(area)`: an area row was picked; `onFind(entity)`: a search hit that is not an area (a compound, an
   *  organization, a red station, a list entry…) was picked, to be found in the drawing. */
  constructor(treeEl, searchEl, hitsEl, onPick, onFind = () => {}) {
    this.el = treeEl;
    this.hits = hitsEl;
    this.onPick = onPick;
    this.onFind = onFind;
    this.byCode = new Map();
    this.searchToken = 0;
    let timer = null;
    searchEl.addEventListener("input", () => {
      const q = searchEl.value.trim();
      this.filter(q);
      clearTimeout(timer);
      timer = setTimeout(() => this.searchServer(q), 250);
    });
    treeEl.addEventListener("click", (evt) => this._click(evt));
    hitsEl.addEventListener("click", (evt) => this._click(evt));
  }

  /** Build the tree from its roots, areas of one `level` with their children as `cities { districts { streets {
   *  communities } } }` has them (a street's communities, …); a root is always open. */
  render(roots, level = "city") {
    const count = (area, at) =>
      at === "street" ? 1 : CHILD[at] ? area[CHILD[at]].reduce((n, kid) => n + count(kid, NEXT[at]), 0) : 0;
    const streets = roots.reduce((n, area) => n + count(area, level), 0);
    const build = (area, level, root = false) => {
      const kids = CHILD[level] ? area[CHILD[level]] : null;
      const open = root || level === "city" || level === "district" || (level === "street" && streets <= 3);
      const lazy = level === "community";
      const li = document.createElement("li");
      li.dataset.code = area.code;
      li.dataset.level = level;
      li.dataset.name = area.name;
      li.setAttribute("role", "treeitem");
      const hasKids = lazy || (kids && kids.length);
      li.innerHTML = `<div class="tree-row" data-code="${esc(area.code)}"><span class="twisty">${
        hasKids ? (open ? "▾" : "▸") : ""}</span><span class="name">${esc(area.name)}</span><span class="kind">${
        LEVELS[level].name}</span></div>`;
      if (kids && kids.length) {
        const ul = document.createElement("ul");
        ul.hidden = !open;
        for (const kid of kids) ul.append(build(kid, NEXT[level]));
        li.append(ul);
      } else if (lazy) {
        li.dataset.lazy = "1";
      }
      this.byCode.set(area.code, { code: area.code, name: area.name, level, type: LEVELS[level].type, li });
      return li;
    };
    this.el.replaceChildren(...roots.map((a) => build(a, level, true)));
  }

  /** The area of a code, once its row is in the tree. */
  area(code) {
    return this.byCode.get(code);
  }

  async _click(evt) {
    const row = evt.target.closest(".tree-row");
    if (!row) return;
    const code = row.dataset.code;
    if (row.dataset.entity) {
      this.onFind({ code, type: row.dataset.entity, label: row.dataset.name, typeName: row.dataset.typeName });
      return;
    }
    const li = row.parentElement;
    if (evt.target.classList.contains("twisty")) {
      await this.toggle(li);
      return;
    }
    let area = this.byCode.get(code);
    if (!area && row.dataset.level) {
      area = { code, name: row.dataset.name, level: row.dataset.level, type: LEVELS[row.dataset.level].type };
    }
    if (area) this.onPick(area);
  }

  async toggle(li, open) {
    if (li.dataset.lazy) await this._loadGrids(li);
    const ul = li.querySelector(":scope > ul");
    if (!ul) return;
    ul.hidden = open === undefined ? !ul.hidden : !open;
    li.querySelector(":scope > .tree-row .twisty").textContent = ul.hidden ? "▸" : "▾";
  }

  async _loadGrids(li) {
    delete li.dataset.lazy;
    const data = await gql(GRIDS, { code: li.dataset.code });
    const grids = data.community ? data.community.grids : [];
    const ul = document.createElement("ul");
    ul.hidden = true;
    for (const g of grids) {
      const item = document.createElement("li");
      item.dataset.code = g.code;
      item.dataset.level = "grid";
      item.dataset.name = g.name;
      item.innerHTML = `<div class="tree-row" data-code="${esc(g.code)}"><span class="twisty"></span><span class="name">${
        esc(g.name)}</span><span class="kind">网格</span></div>`;
      ul.append(item);
      this.byCode.set(g.code, { code: g.code, name: g.name, level: "grid", type: "Grid", li: item });
    }
    li.append(ul);
    if (!grids.length) li.querySelector(":scope > .tree-row .twisty").textContent = "";
  }

  /** Show the path to a code (its ancestors opened) and mark it selected. */
  async reveal(code) {
    if (!this.byCode.has(code) && code.startsWith("WG-")) {
      const community = this.byCode.get(code.slice(3, 15));
      if (community) await this._loadGrids(community.li);
    }
    const area = this.byCode.get(code);
    this.el.querySelectorAll(".tree-row.selected").forEach((r) => r.classList.remove("selected"));
    if (!area) return;
    let li = area.li.parentElement.closest("li");
    while (li) {
      await this.toggle(li, true);
      li = li.parentElement.closest("li");
    }
    const row = area.li.querySelector(":scope > .tree-row");
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  }

  /** Hide rows that neither match nor lead to a match (name or code). */
  filter(q) {
    const needle = q.toLowerCase();
    const walk = (li) => {
      const self = !needle || li.dataset.name.toLowerCase().includes(needle) || li.dataset.code.toLowerCase().includes(needle);
      let below = false;
      for (const kid of li.querySelectorAll(":scope > ul > li")) below = walk(kid) || below;
      const shown = self || below;
      li.classList.toggle("filtered-out", !shown);
      if (needle && below) {
        const ul = li.querySelector(":scope > ul");
        if (ul) ul.hidden = false;
      }
      return shown;
    };
    for (const li of this.el.querySelectorAll(":scope > li")) walk(li);
  }

  /** Server-side search (finds grids not yet loaded into the tree). */
  async searchServer(q) {
    const token = ++this.searchToken; // a later search (or clearing) wins
    if (!q) {
      this.hits.hidden = true;
      this.hits.replaceChildren();
      return;
    }
    try {
      const data = await gql(SEARCH, { name: q });
      if (token !== this.searchToken) return;
      const rows = data.search.edges.map(({ node }) => {
        const level = LEVEL_OF_TYPE[node.type];
        const what = level ? `data-level="${level}"` : `data-entity="${esc(node.type)}" data-type-name="${esc(node.typeName)}"`;
        return `<li><div class="tree-row" data-code="${esc(node.code)}" ${what} data-name="${
          esc(node.label)}"><span class="twisty">·</span><span class="name">${esc(node.label)}</span><span class="kind">${
          esc(node.typeName)} ${esc(node.code)}</span></div></li>`;
      });
      this.hits.innerHTML = rows.length
        ? `<li class="hint">搜索结果 / results (${data.search.totalCount})</li>${rows.join("")}`
        : `<li class="hint">无结果 / no match</li>`;
      this.hits.hidden = false;
    } catch (err) {
      if (token !== this.searchToken) return;
      this.hits.innerHTML = `<li class="hint">${esc(err.message)}</li>`;
      this.hits.hidden = false;
    }
  }
}

/** Where the tree starts for a caller whose scope is `code` (an area or grid code; `name` its name), in the
 *  `cities` visible to it: the root area, its level, and the areas above it (outermost first, code and name).
 *  Null when the scope is not among them (the whole `cities` list is then the tree). */
export function rootAt(cities, code, name) {
  const community = code.startsWith("WG-") ? code.slice(3, 15) : null;
  const walk = (areas, level, above) => {
    for (const area of areas) {
      if (area.code === code) return { root: area, level, above };
      if (area.code === community) {
        return { root: { code, name: name ?? code }, level: "grid", above: [...above, { code: area.code, name: area.name, level }] };
      }
      const kids = CHILD[level] ? area[CHILD[level]] : null;
      const found = kids && walk(kids, NEXT[level], [...above, { code: area.code, name: area.name, level }]);
      if (found) return found;
    }
    return null;
  };
  return walk(cities, "city", []);
}

export { esc };
