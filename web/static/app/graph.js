// The drawing: Cytoscape.js with a layered layout. dagre orders the nodes inside each row; every node then sits
// on the row of its level in the four-level network (street 0 … central household 5, households 6). A row wider
// than the window wraps onto more lines, so labels stay readable at "fit" (LABEL_PX at zoom 1).
// Neighbours a level of detail leaves out (the API's `hidden`) are counted on the node the model makes their
// parent (HOME) — "+楼栋 12 · 空白 2" under a grid's name, a red badge for the gaps they hold — and opened on
// demand (double-click), so a view stays small without hiding where the gaps are.
import { toSvg } from "./export.js";
import { BOX, FAMILY_OF, HOME, cyStyle, rateData } from "./style.js";

const ROW_GAP = 56; // vertical room between two rows (px)
const LINE_GAP = 14; // vertical room between two lines of a wrapped row (px)
const GAP_X = 14; // least horizontal room between two nodes of a row (px)
/** Every label's font size (px at zoom 1): a drawing is readable at "fit" when its zoom is at least 1. */
export const LABEL_PX = 12;

/**
 * A name that may break between any two characters: Cytoscape wraps labels only at white space or zero-width
 * spaces, and a Chinese name has neither, so a long one (a property company's) would spill out of its shape.
 * Only names: Cytoscape's `text-overflow-wrap: anywhere` would break the counts' numbers too.
 */
export function breakable(text) {
  const chars = Array.from(String(text ?? ""));
  return chars.length > 7 ? chars.join("\u200b") : String(text ?? "");
}

/** What a node shows: its name, the counts it carries, and what it holds that is not drawn yet. */
function display(n, more = []) {
  const lines = [breakable(n.label)];
  if (n.households != null) {
    lines.push(`${n.households}户` + (n.householdsWithoutCentral ? `(${n.householdsWithoutCentral}未联系)` : ""));
  }
  const held = more.map((m) => `+${m.typeName} ${m.count}` + (m.gaps ? ` · 空白 ${m.gaps}` : ""));
  // Two held types a line when there are many (a community holds partners, stations, committees…).
  const pairs = held.length > 2;
  for (let i = 0; i < held.length; i += pairs ? 2 : 1) lines.push(held.slice(i, i + (pairs ? 2 : 1)).join("  "));
  return lines.join("\n");
}

/** Cytoscape classes of an API node: its type family, and its marks. */
function classes(n) {
  const cls = [FAMILY_OF[n.type]?.key ?? "other"];
  if (n.gaps && n.gaps.length) cls.push("gap");
  else if (n.householdsWithoutCentral) cls.push("partial");
  return cls.join(" ");
}

/**
 * Where each left-out type is shown as an aggregate: on nodes of its HOME type (its parent in the model) when
 * those are drawn, else on the drawn type counting the most of them — one place per type, so no building is
 * counted twice (a building is a neighbour of its grid, compound and group alike).
 */
function homes(nodes, already = {}) {
  const totals = {}; // hidden type → owner type → count
  for (const n of nodes) {
    for (const h of (n.hidden ?? []).filter((x) => x.level >= n.level)) {
      totals[h.type] ??= {};
      totals[h.type][n.type] = (totals[h.type][n.type] ?? 0) + h.count;
    }
  }
  const out = { ...already };
  for (const [type, owners] of Object.entries(totals)) {
    if (out[type]) continue;
    out[type] = owners[HOME[type]] ? HOME[type] : Object.entries(owners).sort((a, b) => b[1] - a[1])[0][0];
  }
  return out;
}

/** The left-out neighbours counted on a node: of the types whose home is its type, on its row or below. */
function moreOf(n, home) {
  return (n.hidden ?? [])
    .filter((h) => h.count && home[h.type] === n.type && h.level >= n.level)
    .map((h) => ({ type: h.type, typeName: h.typeName, count: h.count, gaps: h.gaps }));
}

/** A node's data and classes for what it holds (`more`): its label lines, height and gap badge. */
function withMore(data, more) {
  const held = more.reduce((k, m) => k + m.gaps, 0);
  const lines = data.display.split("\n").length;
  const wide = more.length > 2;
  return {
    data: { ...data, more, gapCount: held, h: 40 + Math.max(0, lines - 2) * 15 + (wide ? 10 : 0), w: wide ? 190 : 112 },
    classes: (more.length ? " has-more" : "") + (held ? " has-gaps" : ""),
  };
}

/** A red badge with its gap count at the top right of each visible child area that has gaps. */
function badges(cy) {
  return cy.nodes(".has-gaps:visible").map((n) => {
    const { x, y } = n.position();
    return { group: "nodes", classes: "badge", selectable: false, grabbable: false,
      data: { id: `badge:${n.id()}`, display: String(n.data("gapCount")), level: null, badgeOf: n.id() },
      position: { x: x + n.width() / 2 - 4, y: y - n.height() / 2 + 4 } };
  });
}

/**
 * Rows by level, top-down. A leaf (one neighbour, in a row above: e.g. a central household under its group) is
 * stacked with its siblings in a small block under that parent instead of widening the row; the items of a row
 * keep dagre's order and are pushed apart where they overlap.
 */
function isLeaf(n) {
  const nbrs = n.neighborhood("node:visible");
  return nbrs.length === 1 && nbrs[0].data("level") < n.data("level");
}

/** Items of a row (sorted by x), packed onto lines no wider than `maxWidth`. */
function wrap(items, maxWidth) {
  const lines = [[]];
  let width = 0;
  for (const item of items) {
    const w = item.w + GAP_X;
    if (lines.at(-1).length && width + w > maxWidth) {
      lines.push([]);
      width = 0;
    }
    lines.at(-1).push(item);
    width += w;
  }
  return lines;
}

/**
 * The zoom at which `network` would fit a `width` × `height` window, estimated without laying it out: its rows
 * built as placeRows builds them — a leaf's siblings in a block (three abreast) under their parent, the other nodes
 * one item each — and packed onto lines of the window's width in no particular order, LINE_GAP between lines,
 * ROW_GAP between rows. Boxes are the nodes' own (`withMore`, else their family's). An estimate, close to the
 * layout's (which orders the items, dagre): a level far from readable need not be laid out to know it.
 */
function estimatedZoom(network, off, width, height) {
  const home = homes(network.nodes, {});
  const shown = new Map();
  for (const n of network.nodes) {
    const family = FAMILY_OF[n.type]?.key ?? "other";
    if (off.has(family) && n.id !== network.root) continue;
    const more = moreOf(n, home);
    const held = more.length ? withMore({ ...n, display: display(n, more) }, more).data : null;
    const [w, h] = held ? [held.w, held.h] : (BOX[family] ?? BOX.default);
    shown.set(n.id, { level: n.level, w: w + 3, h: h + 3, near: [] }); // + borders
  }
  for (const e of network.edges) {
    const [a, b] = [shown.get(e.source), shown.get(e.target)];
    if (a && b && a !== b) {
      a.near.push(b);
      b.near.push(a);
    }
  }
  const rows = new Map(); // level → items
  const blocks = new Map(); // parent → leaves
  for (const n of shown.values()) {
    const parent = n.near.length === 1 && n.near[0].level < n.level ? n.near[0] : null;
    if (parent) blocks.set(parent, [...(blocks.get(parent) ?? []), n]);
    else rows.set(n.level, [...(rows.get(n.level) ?? []), { w: n.w, h: n.h }]);
  }
  for (const leaves of blocks.values()) {
    const [cw, ch] = [Math.max(...leaves.map((l) => l.w)) + GAP_X / 2, Math.max(...leaves.map((l) => l.h)) + 16];
    const cols = Math.min(3, leaves.length);
    const level = leaves[0].level;
    rows.set(level, [...(rows.get(level) ?? []), { w: cols * cw, h: Math.ceil(leaves.length / cols) * ch }]);
  }
  const full = Math.max(320, width - 64);
  let top = 0;
  let widest = 0;
  for (const level of [...rows.keys()].sort((a, b) => a - b)) {
    for (const line of wrap(rows.get(level), full)) {
      widest = Math.max(widest, line.reduce((k, item) => k + item.w + GAP_X, 0) - GAP_X);
      top += Math.max(...line.map((item) => item.h)) + LINE_GAP;
    }
    top += ROW_GAP - LINE_GAP;
  }
  return Math.min((width - 48) / widest, (height - 48) / (top - ROW_GAP));
}

/** Columns of a block of `n` equal cells (cw × ch) that let it fit a `width` × `height` window at the largest zoom. */
function bestColumns(n, cw, ch, width, height) {
  let best = 1;
  let zoom = 0;
  for (let cols = 1; cols <= n; cols += 1) {
    const z = Math.min(width / (cols * cw), height / (Math.ceil(n / cols) * ch));
    if (z > zoom + 1e-9) [best, zoom] = [cols, z];
  }
  return best;
}

function placeRows(cy, maxWidth) {
  const shown = cy.nodes(":visible");
  const levels = [...new Set(shown.map((n) => n.data("level")))].sort((a, b) => a - b);
  const xs = shown.map((n) => n.position("x"));
  const centre = (Math.min(...xs) + Math.max(...xs)) / 2;
  let top = 0;
  const placed = new Map(); // node id → x, for leaves' parents in rows above
  for (const level of levels) {
    const row = shown.filter((n) => n.data("level") === level);
    const blocks = new Map(); // parent id → leaves
    const items = [];
    row.forEach((n) => {
      const parent = isLeaf(n) ? n.neighborhood("node:visible")[0] : null;
      if (parent && placed.has(parent.id())) {
        if (!blocks.has(parent.id())) blocks.set(parent.id(), []);
        blocks.get(parent.id()).push(n);
      } else {
        items.push({ x: n.position("x"), w: n.outerWidth(), h: n.outerHeight(), nodes: [n], cols: 1 });
      }
    });
    for (const [parentId, leaves] of blocks) {
      // Central households three abreast under their group; collapsed areas in the block that fits the window
      // at the largest zoom (the rows above take about one row's room).
      const cw = Math.max(...leaves.map((l) => l.outerWidth())) + GAP_X / 2;
      const ch = Math.max(...leaves.map((l) => l.outerHeight())) + 16;
      const cols = leaves[0].hasClass("collapsed")
        ? bestColumns(leaves.length, cw, ch, maxWidth, Math.max(200, cy.height() - 48 - top - ROW_GAP))
        : Math.min(3, leaves.length);
      const rows = Math.ceil(leaves.length / cols);
      leaves.sort((a, b) => String(a.data("code")).localeCompare(String(b.data("code"))));
      items.push({ x: placed.get(parentId), w: cols * cw, h: rows * ch, nodes: leaves, cols, cw, ch });
    }
    items.sort((a, b) => a.x - b.x);
    const span = items.length ? items.at(-1).x + items.at(-1).w / 2 - (items[0].x - items[0].w / 2) : 0;
    // A row that fits keeps dagre's x (pushed apart where items overlap); a wider one is packed onto lines
    // centred on the drawing, as many as it needs.
    const packed = span > maxWidth;
    const lines = packed ? wrap(items, maxWidth) : [items];
    for (const line of lines) {
      const width = line.reduce((w, item) => w + item.w + GAP_X, 0);
      let right = packed ? centre - width / 2 : -Infinity;
      let height = 0;
      for (const item of line) {
        const x = packed ? right + GAP_X + item.w / 2 : Math.max(item.x, right + GAP_X + item.w / 2);
        right = x + item.w / 2;
        height = Math.max(height, item.h);
        if (item.nodes.length === 1 && item.cols === 1 && !item.cw) {
          item.nodes[0].position({ x, y: top + item.h / 2 });
        } else {
          item.nodes.forEach((n, i) => {
            const col = i % item.cols;
            const at = Math.floor(i / item.cols);
            n.position({ x: x - item.w / 2 + item.cw * (col + 0.5), y: top + item.ch * (at + 0.5) });
          });
        }
        for (const n of item.nodes) placed.set(n.id(), n.position("x"));
      }
      top += height + LINE_GAP;
    }
    top += ROW_GAP - LINE_GAP;
  }
}

export class Drawing {
  constructor(container, { onSelect, onOpen, onMore, onFold = () => {} }) {
    this.cy = cytoscape({
      container,
      style: cyStyle(),
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false,
      textureOnViewport: true,
      hideEdgesOnViewport: true,
    });
    /** hidden type → the node type it is counted on, for this drawing (kept across merges). */
    this.home = {};
    /** Type families switched off (the legend's toggles), and whether only gaps are shown in full. */
    this.off = new Set();
    this.onlyGaps = false;
    this.cy.on("tap", "node", (evt) => {
      if (!evt.target.hasClass("badge")) onSelect(evt.target.data());
    });
    this.cy.on("dbltap", "node.collapsed", (evt) => onOpen(evt.target.data()));
    this.cy.on("dbltap", "node.has-more", (evt) => onMore(evt.target.data()));
    this.cy.on("dbltap", "node.opened", (evt) => onFold(evt.target.data()));
    /** Per node opened (`merge` with `opened`): the nodes its opening added and its held counts, to fold it back. */
    this.opened = new Map();
  }

  clear() {
    this.cy.elements().remove();
    this.home = {};
    this.opened.clear();
  }

  /** Elements (nodes and edges) for a network answer; nodes already drawn are skipped. */
  _elements(network) {
    const have = (id) => this.cy.getElementById(id).nonempty();
    const level = Object.fromEntries(network.nodes.map((n) => [n.id, n.level]));
    this.cy.nodes().forEach((n) => {
      level[n.id()] ??= n.data("level");
    });
    const out = [];
    const fresh = network.nodes.filter((n) => !have(n.id));
    this.home = homes(fresh, this.home);
    for (const n of fresh) {
      const more = moreOf(n, this.home);
      const held = withMore({ ...n, display: display(n, more) }, more);
      out.push({ group: "nodes", data: held.data, classes: classes(n) + held.classes });
    }
    for (const e of network.edges) {
      // Upper row first, so dagre ranks rows top-down; the relationship keeps its own direction in data.
      const [a, b] = level[e.source] <= level[e.target] ? [e.source, e.target] : [e.target, e.source];
      const id = `${a}|${b}|${e.type}`;
      if (have(id) || out.some((x) => x.data.id === id)) continue;
      const same = level[e.source] === level[e.target];
      out.push({ group: "edges", data: { id, source: a, target: b, rel: e.type, from: e.source, to: e.target },
        classes: same ? "same-row" : "" });
    }
    return out;
  }

  /** Draw a network answer (replacing what is drawn). */
  async show(network) {
    this.cy.batch(() => {
      this.clear();
      this.cy.add(this._elements(network));
      this.cy.getElementById(network.root).addClass("root");
      this._filter();
    });
    await this.layout();
  }

  /**
   * Merge a network answer into the drawing (expand a node's neighbours, open what it holds); how many nodes were
   * added. `opened`: the node whose held counts are now drawn (its label loses them).
   */
  async merge(network, { opened = null } = {}) {
    const before = this.cy.nodes().not(".badge").length;
    this.cy.batch(() => {
      const fresh = this.cy.add(this._elements(network)).nodes();
      const node = opened ? this.cy.getElementById(opened) : null;
      if (node && node.nonempty()) {
        const data = node.data();
        this.opened.set(opened, { added: fresh.map((n) => n.id()), data: { ...data },
          classes: ["has-more", "has-gaps"].filter((c) => node.hasClass(c)) });
        node.data({ ...withMore({ ...data, display: display(data) }, []).data, opened: true });
        node.removeClass("has-more has-gaps").addClass("opened");
      }
      this._filter();
    });
    const added = this.cy.nodes().not(".badge").length - before;
    await this.layout();
    return added;
  }

  /**
   * Fold an opened node back: the nodes its opening added go (those opened in turn are folded first), and it
   * shows its held counts again; how many nodes went.
   */
  async fold(id) {
    let removed = 0;
    this.cy.batch(() => {
      removed = this._fold(id);
      this._filter();
    });
    await this.layout();
    return removed;
  }

  _fold(id) {
    const entry = this.opened.get(id);
    if (!entry) return 0;
    this.opened.delete(id);
    let removed = 0;
    for (const child of entry.added) removed += this._fold(child);
    const gone = this.cy.collection(entry.added.map((i) => this.cy.getElementById(i)).filter((n) => n.nonempty()));
    removed += gone.length;
    gone.remove();
    const node = this.cy.getElementById(id);
    if (node.nonempty()) {
      node.data({ ...entry.data, opened: false });
      node.removeClass("opened").addClass(entry.classes.join(" "));
    }
    return removed;
  }

  /**
   * A scope shown by its child areas: one node per child. With `rated` (a child → {rate, fill, light, size}), each
   * is coloured on the rate scale and sized by its households instead of being marked red for any gap: the worst
   * areas stand out, the gap count is on its label.
   */
  async showCollapsed(scope, children, figuresText, rated = null) {
    const root = { id: `area:${scope.code}`, code: scope.code, type: scope.type, typeName: scope.typeName,
      label: scope.name, level: 0, gaps: [], collapsed: false };
    const nodes = [{ group: "nodes", data: { ...root, display: root.label }, classes: "area root" }];
    const edges = [];
    for (const c of children) {
      const id = `area:${c.code}`;
      const gaps = c.gapKinds;
      const shade = rated ? rated(c) : null;
      const data = { id, code: c.code, type: c.type, typeName: c.typeName, label: c.name, level: 1, gaps,
        collapsed: true, counts: c.counts, display: `${breakable(c.name)}\n${figuresText(c)}`, gapCount: c.gapCount ?? 0 };
      if (shade) {
        Object.assign(data, rateData(shade.rate, shade), { w: shade.size, h: Math.round(shade.size * 0.5) });
      }
      nodes.push({
        group: "nodes",
        data,
        classes: "collapsed" + (shade ? " rated" : gaps.length ? " gap" : "") + (data.gapCount ? " has-gaps" : ""),
      });
      edges.push({ group: "edges", data: { id: `${root.id}|${id}|IN`, source: root.id, target: id, rel: "IN" },
        classes: "area-link" });
    }
    this.cy.batch(() => {
      this.clear();
      this.cy.add([...nodes, ...edges]);
      this._filter();
    });
    await this.layout();
  }

  /**
   * dagre for the order inside rows, then each node on its level's row, leaves stacked under their parent. Layouts
   * run one at a time (a filter switched twice quickly, then an expansion, queue behind each other): two dagre
   * runs over the same elements at once corrupt the positions.
   */
  layout() {
    this._queue = (this._queue ?? Promise.resolve()).then(() => this._layout(), () => this._layout());
    return this._queue;
  }

  async _layout() {
    const cy = this.cy;
    const shown = cy.nodes(":visible").not(".badge");
    if (shown.length === 0) return;
    const started = performance.now();
    // Leaves are stacked under their parents afterwards: dagre orders the rest (a row of 200 leaves would
    // otherwise spread everything).
    const leaves = shown.filter((n) => isLeaf(n));
    const ranked = shown.not(leaves).union(cy.edges(":visible").not(".same-row").not(leaves.connectedEdges()));
    await new Promise((resolve) => {
      const layout = ranked.layout({
        name: "dagre",
        rankDir: "TB",
        nodeSep: 12,
        rankSep: 80,
        ranker: "longest-path", // rows come from the levels anyway; network-simplex ranking costs 5x more
        minLen: (edge) => Math.max(1, edge.target().data("level") - edge.source().data("level")),
        animate: false,
        fit: false,
      });
      layout.one("layoutstop", resolve);
      layout.run();
    });
    // Rows wrap at the window's width (zoom 1, where labels are LABEL_PX); when that makes the drawing taller than
    // the window, wider lines are tried and the width that fits the window at the largest zoom is kept (a tall
    // thin drawing would need a smaller zoom than a wide one). Each try starts from dagre's positions.
    const full = Math.max(320, cy.width() - 64); // the fit's padding (24 + 24) and borders that overhang the rows
    const dagre = new Map(shown.map((n) => [n.id(), { ...n.position() }]));
    const tryWidth = (width) => {
      shown.forEach((n) => n.position(dagre.get(n.id())));
      placeRows(cy, width);
      const box = shown.boundingBox();
      return Math.min((cy.width() - 48) / box.w, (cy.height() - 48) / box.h);
    };
    cy.batch(() => {
      cy.nodes(".badge").remove();
      let best = full;
      let zoom = tryWidth(full);
      for (const factor of [1.5, 2, 3, 4]) {
        if (zoom >= 1) break; // fits at zoom 1 already: labels are at their full size
        const z = tryWidth(full * factor);
        if (z > zoom * 1.02) [best, zoom] = [full * factor, z];
      }
      tryWidth(best);
      cy.add(badges(cy));
    });
    this.fit();
    this.layoutMs = performance.now() - started;
  }

  /** Fit what is shown into the window, but no closer than 1.6x (a three-node drawing stays a drawing). */
  fit() {
    const shown = this.cy.elements(":visible");
    this.cy.fit(shown, 24);
    if (this.cy.zoom() > 1.6) {
      this.cy.zoom(1.6);
      this.cy.center(shown);
    }
  }

  /** Rendered label heights (px) of the visible nodes at the current zoom: font size times zoom. */
  labelHeights() {
    const zoom = this.cy.zoom();
    return this.cy.nodes(":visible").not(".badge").map((n) => Number.parseFloat(n.style("font-size")) * zoom);
  }

  /**
   * The most nodes of these types a drawing in this window can hold and still read at "fit" (zoom 1 or more): at
   * zoom 1 a node takes at least its smallest box (style.js BOX: a central household's across, else the default) and
   * the least room placeRows keeps beside it (GAP_X / 2 in a block of leaves) and under it (LINE_GAP), inside the
   * window less the fit's padding. A level with more nodes cannot read, so it is neither asked for nor drawn; one
   * with fewer may still not (its rows' shape): `readable` says after drawing it.
   */
  capacity(types) {
    const across = (types.includes("CentralHousehold") ? BOX.central : BOX.default)[0] + GAP_X / 2;
    const room = (this.cy.width() - 48 + GAP_X / 2) * (this.cy.height() - 48 + LINE_GAP);
    return Math.max(1, Math.floor(room / (across * (BOX.default[1] + LINE_GAP))));
  }

  /** The zoom `network` would be drawn at in this window at "fit", estimated without drawing it (`estimatedZoom`). */
  estimateZoom(network) {
    return estimatedZoom(network, this.off, this.cy.width(), this.cy.height());
  }

  /** Whether the drawing at "fit" shows every label at LABEL_PX or more. */
  readable() {
    return Math.min(...this.labelHeights()) >= LABEL_PX - 0.01;
  }

  /**
   * Colour the organizations that answer for drawn areas on the rate scale (`rates`: area code → {units, covered}
   * of the colouring metric): a community committee by the community it leads, a grid branch by the grids it
   * covers, summed. One without a figure (a compound's branch, or its grids not drawn) keeps its type's colour,
   * and a gap entity stays a red octagon. How many were coloured.
   */
  rateOrganizations(rates) {
    const led = { CommunityCommittee: "LEADS", GridBranch: "COVERS" };
    let coloured = 0;
    this.cy.batch(() => {
      this.cy.nodes(".org-rated").removeClass("org-rated");
      this.cy.nodes().forEach((n) => {
        const rel = led[n.data("type")];
        if (!rel || n.hasClass("gap")) return;
        const areas = n.connectedEdges().filter((e) => e.data("rel") === rel && e.data("from") === n.id())
          .map((e) => rates.get(this.cy.getElementById(e.data("to")).data("code"))).filter(Boolean);
        if (!areas.length) return;
        const units = areas.reduce((k, a) => k + a.units, 0);
        const covered = areas.reduce((k, a) => k + a.covered, 0);
        const rate = units ? covered / units : null;
        n.data(rateData(rate));
        n.addClass("org-rated");
        coloured += 1;
      });
    });
    return coloured;
  }

  /** Recolour the rated child areas (another metric chosen): `rated` as `showCollapsed` takes it. */
  recolour(rated) {
    this.cy.batch(() => {
      this.cy.nodes(".rated").forEach((n) => {
        const shade = rated(n.data());
        n.data(rateData(shade.rate, shade));
      });
    });
  }

  /** Type families to hide (the legend's toggles) and "only gaps" (the rest faded): applied, then re-laid out. */
  async filter({ off, onlyGaps }) {
    if (off) this.off = new Set(off);
    if (onlyGaps != null) this.onlyGaps = onlyGaps;
    this.cy.batch(() => this._filter());
    await this.layout();
  }

  _filter() {
    const cy = this.cy;
    cy.nodes().not(".badge").forEach((n) => {
      const family = FAMILY_OF[n.data("type")]?.key ?? "other";
      n.toggleClass("off", this.off.has(family) && !n.hasClass("root") && !n.hasClass("collapsed"));
    });
    const marked = cy.nodes(".gap, .has-gaps, .root");
    // "Only gaps": the gaps, what holds them, and the path up to the root stay; the rest is faded, not removed.
    const keep = this.onlyGaps ? marked.union(marked.predecessors()).union(marked.successors(".gap")) : cy.elements();
    cy.elements().removeClass("faded");
    if (this.onlyGaps) {
      const up = cy.elements().dijkstra({ root: cy.nodes(".root")[0] ?? cy.nodes()[0], directed: false });
      let path = cy.collection();
      marked.forEach((n) => {
        path = path.union(up.pathTo(n));
      });
      cy.elements().not(keep.union(path)).addClass("faded");
    }
  }

  /** Highlight the path from the drawing's root to a node (search "find and focus"); null when not drawn. */
  focus(code) {
    const cy = this.cy;
    const node = cy.nodes().filter((n) => n.data("code") === code)[0];
    cy.elements().removeClass("path");
    if (!node) return null;
    node.removeClass("off");
    const root = cy.nodes(".root")[0] ?? node;
    const path = cy.elements(":visible").dijkstra({ root, directed: false }).pathTo(node);
    path.addClass("path");
    node.select();
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 250 });
    return path;
  }

  /** Highlight these codes and the edges between them (a responsibility chain); how many are drawn. */
  highlight(codes) {
    const cy = this.cy;
    const wanted = new Set(codes);
    cy.elements().removeClass("path");
    const nodes = cy.nodes().filter((n) => wanted.has(n.data("code")));
    nodes.union(nodes.edgesWith(nodes)).addClass("path");
    return nodes.length;
  }

  /** The current view as a PNG (Blob), at twice the screen's resolution. */
  png() {
    return this.cy.png({ output: "blob", full: false, scale: 2, bg: "#ffffff" });
  }

  /** The current view as SVG text: shapes, fills and labels as Cytoscape renders them (vector, for print). */
  svg() {
    return toSvg(this.cy);
  }

  /** Counts of what is drawn, for the status line and the tests. */
  summary() {
    const nodes = this.cy.nodes().not(".badge");
    return { nodes: nodes.length, edges: this.cy.edges().length, gaps: nodes.filter(".gap").length,
      holding: nodes.filter(".has-more").length, shown: nodes.filter(":visible").length };
  }
}
