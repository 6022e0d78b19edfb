// The drawing: Cytoscape.js with a layered layout. dagre orders the nodes inside each row; every node then sits
// on the row of its level in the four-level network (street 0 … central household 5, households 6).
import { FAMILY_OF, cyStyle } from "./style.js";

const ROW_GAP = 90; // vertical room between two rows (px)
const GAP_X = 14; // least horizontal room between two nodes of a row (px)

/** What a node shows: its name, and the counts it carries. */
function display(n) {
  const lines = [n.label];
  if (n.households != null) {
    lines.push(`${n.households}户` + (n.householdsWithoutCentral ? `(${n.householdsWithoutCentral}未联系)` : ""));
  }
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
 * Rows by level, top-down. A leaf (one neighbour, in a row above: e.g. a central household under its group) is
 * stacked with its siblings in a small block under that parent instead of widening the row; the items of a row
 * keep dagre's order and are pushed apart where they overlap.
 */
function isLeaf(n) {
  const nbrs = n.neighborhood("node");
  return nbrs.length === 1 && nbrs[0].data("level") < n.data("level");
}

function placeRows(cy) {
  const levels = [...new Set(cy.nodes().map((n) => n.data("level")))].sort((a, b) => a - b);
  let top = 0;
  const placed = new Map(); // node id → x, for leaves' parents in rows above
  for (const level of levels) {
    const row = cy.nodes().filter((n) => n.data("level") === level);
    const blocks = new Map(); // parent id → leaves
    const items = [];
    row.forEach((n) => {
      const parent = isLeaf(n) ? n.neighborhood("node")[0] : null;
      if (parent && placed.has(parent.id())) {
        if (!blocks.has(parent.id())) blocks.set(parent.id(), []);
        blocks.get(parent.id()).push(n);
      } else {
        items.push({ x: n.position("x"), w: n.outerWidth(), h: n.outerHeight(), nodes: [n], cols: 1 });
      }
    });
    for (const [parentId, leaves] of blocks) {
      // Central households three abreast under their group; collapsed areas (counts) six abreast.
      const cols = Math.min(leaves[0].hasClass("collapsed") ? 6 : 3, leaves.length);
      const cw = Math.max(...leaves.map((l) => l.outerWidth())) + GAP_X / 2;
      const ch = Math.max(...leaves.map((l) => l.outerHeight())) + 16;
      const rows = Math.ceil(leaves.length / cols);
      leaves.sort((a, b) => String(a.data("code")).localeCompare(String(b.data("code"))));
      items.push({ x: placed.get(parentId), w: cols * cw, h: rows * ch, nodes: leaves, cols, cw, ch });
    }
    items.sort((a, b) => a.x - b.x);
    let right = -Infinity;
    let height = 0;
    for (const item of items) {
      const x = Math.max(item.x, right + GAP_X + item.w / 2);
      right = x + item.w / 2;
      height = Math.max(height, item.h);
      if (item.nodes.length === 1 && item.cols === 1 && !item.cw) {
        item.nodes[0].position({ x, y: top + item.h / 2 });
      } else {
        item.nodes.forEach((n, i) => {
          const col = i % item.cols;
          const line = Math.floor(i / item.cols);
          n.position({ x: x - item.w / 2 + item.cw * (col + 0.5), y: top + item.ch * (line + 0.5) });
        });
      }
      for (const n of item.nodes) placed.set(n.id(), n.position("x"));
    }
    top += height + ROW_GAP;
  }
}

export class Drawing {
  constructor(container, { onSelect, onOpen }) {
    this.cy = cytoscape({
      container,
      style: cyStyle(),
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false,
      textureOnViewport: true,
      hideEdgesOnViewport: true,
    });
    this.cy.on("tap", "node", (evt) => onSelect(evt.target.data()));
    this.cy.on("dbltap", "node.collapsed", (evt) => onOpen(evt.target.data()));
  }

  clear() {
    this.cy.elements().remove();
  }

  /** Elements (nodes and edges) for a network answer; nodes already drawn are skipped. */
  _elements(network) {
    const have = (id) => this.cy.getElementById(id).nonempty();
    const level = Object.fromEntries(network.nodes.map((n) => [n.id, n.level]));
    this.cy.nodes().forEach((n) => {
      level[n.id()] ??= n.data("level");
    });
    const out = [];
    for (const n of network.nodes) {
      if (have(n.id)) continue;
      out.push({ group: "nodes", data: { ...n, display: display(n) }, classes: classes(n) });
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
    });
    await this.layout();
  }

  /** Merge a network answer into the drawing (expand a node's neighbours); how many nodes were added. */
  async merge(network) {
    const before = this.cy.nodes().length;
    this.cy.batch(() => this.cy.add(this._elements(network)));
    const added = this.cy.nodes().length - before;
    if (added) await this.layout();
    return added;
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
        collapsed: true, counts: c.counts, display: `${c.name}\n${figuresText(c)}` };
      if (shade) {
        Object.assign(data, { rate: shade.rate, fill: shade.fill, ink: shade.light ? "#ffffff" : "#1f2329",
          w: shade.size, h: Math.round(shade.size * 0.46) });
      }
      nodes.push({
        group: "nodes",
        data,
        classes: "collapsed" + (shade ? " rated" : gaps.length ? " gap" : ""),
      });
      edges.push({ group: "edges", data: { id: `${root.id}|${id}|IN`, source: root.id, target: id, rel: "IN" },
        classes: "area-link" });
    }
    this.cy.batch(() => {
      this.clear();
      this.cy.add([...nodes, ...edges]);
    });
    await this.layout();
  }

  /** dagre for the order inside rows, then each node on its level's row, leaves stacked under their parent. */
  async layout() {
    const cy = this.cy;
    if (cy.nodes().length === 0) return;
    const started = performance.now();
    // Leaves are stacked under their parents afterwards: dagre orders the rest (a row of 200 leaves would
    // otherwise spread everything).
    const leaves = cy.nodes().filter((n) => isLeaf(n));
    const ranked = cy.nodes().not(leaves).union(cy.edges().not(".same-row").not(leaves.connectedEdges()));
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
    cy.batch(() => placeRows(cy));
    cy.fit(undefined, 24);
    this.layoutMs = performance.now() - started;
  }

  fit() {
    this.cy.fit(undefined, 24);
  }

  /** Recolour the rated child areas (another metric chosen): `rated` as `showCollapsed` takes it. */
  recolour(rated) {
    this.cy.batch(() => {
      this.cy.nodes(".rated").forEach((n) => {
        const shade = rated(n.data());
        n.data({ rate: shade.rate, fill: shade.fill, ink: shade.light ? "#ffffff" : "#1f2329" });
      });
    });
  }

  /** Counts of what is drawn, for the status line and the tests. */
  summary() {
    return { nodes: this.cy.nodes().length, edges: this.cy.edges().length, gaps: this.cy.nodes(".gap").length };
  }
}
