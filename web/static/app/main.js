// 基层党建组织网络图谱: pick a scope in the area tree, draw its four-level network, show its coverage.
// Everything comes from the public GraphQL API (/graphql); nothing is loaded from outside this server. The
// tree starts at the signed-in caller's scope (`me`), and controls its role may not use are not shown.
import { applyGrants, showAccount } from "./account.js";
import { AREA_TREE, COVERAGE, HISTORY, NETWORK, gql } from "./api.js";
import { Dashboard, SHORT, renderFigures, renderTrends } from "./dashboard.js";
import { Details } from "./details.js";
import { save } from "./export.js";
import { Drawing, breakable } from "./graph.js";
import { rateColour, renderLegend, renderScale } from "./style.js";
import { AreaTree, LEVELS, esc, rootAt } from "./tree.js";

const params = new URLSearchParams(window.location.search);
/** Most nodes one view draws before the person asks for more (`?maxNodes=`, 1–2000). */
const BUDGET = Math.min(2000, Math.max(1, Number.parseInt(params.get("maxNodes") ?? "", 10) || 150));
/** Hops drawn from a community or a grid (a street or larger is drawn as its child areas). */
const DEPTH = { community: 4, grid: 4 };
/**
 * Levels of detail of a community and a grid, most detail first: a view draws the first whose nodes stay within
 * the budget and whose labels are readable at "fit"; what each leaves out is counted on the nodes that hold it.
 * A community too big even for the last is drawn as its grids, coloured by rate like a street's communities.
 */
const LADDER = {
  community: [
    ["Community", "CommunityCommittee", "Grid", "GridBranch", "Compound", "BuildingGroup"],
    ["Community", "CommunityCommittee", "Grid", "GridBranch", "Compound"],
    ["Community", "CommunityCommittee", "Grid", "GridBranch"],
  ],
  grid: [
    ["Grid", "GridBranch", "BuildingGroup", "Compound", "Building", "CentralHousehold"],
    ["Grid", "GridBranch", "BuildingGroup", "Compound", "Building"],
    ["Grid", "GridBranch", "BuildingGroup", "Compound"],
  ],
};
const EXPAND_BUDGET = 300;
/**
 * A level of detail whose estimated zoom at "fit" is below this is not drawn (it would not read); between it and 1
 * it is drawn to see. On the city profile the estimate came within 0.04 of the layout's for communities and up to
 * 0.14 below it for grids (2026-12-07): a grid that would only just read may open one level coarser, its central
 * households counted on their groups until opened.
 */
const SURELY_UNREADABLE = 0.95;

/**
 * What opening a scope asks besides its network (`readableNetwork`: a community or grid; a street or larger is
 * drawn from coverage's children): its coverage and, once drawn, its monthly history. One builder, so a request
 * sent early (`sendEarly`) has exactly the variables `pick` asks with.
 */
function scopeRequests(code, level, asOf) {
  return {
    coverage: [COVERAGE, { scope: code, asOf }],
    history: [HISTORY, { scope: code, to: asOf }],
  };
}

/**
 * One request for a scope's network: its levels of detail from `from` on, the server drawing the first that fits
 * its budget — the nodes this window can show readably at that level (`Drawing.capacity`), BUDGET at most. A
 * grid's last level keeps BUDGET: a grid is drawn at its least detail even when that does not read at "fit".
 */
function networkRequest(code, level, asOf, from) {
  const last = LADDER[level].length - 1;
  const levels = LADDER[level].map((types, step) => ({ types,
    maxNodes: step === last && level === "grid" ? BUDGET : Math.min(BUDGET, drawing.capacity(types)) }));
  return [NETWORK, { root: code, depth: DEPTH[level], max: BUDGET, households: false, asOf, levels: levels.slice(from) }];
}

/** Requests sent before they are needed (the URL's scope, while the area tree loads); each is taken once. */
const early = new Map();
const requestKey = ([query, variables]) => JSON.stringify([query, variables]);

function sendEarly(request) {
  const answer = gql(...request);
  answer.catch(() => {}); // a scope the caller may not see: `pick` asks again and shows why
  early.set(requestKey(request), answer);
}

/** The answer of a request: the early one when it was sent, else sent now. */
function ask(request) {
  const key = requestKey(request);
  const answer = early.get(key);
  early.delete(key);
  return answer ?? gql(...request);
}

/**
 * A scope's network as it will be drawn, from its level of detail `from` on: `{ network, step }` (step null when
 * no level fits). The server draws the first level that fits this window's budget (one request for the whole
 * ladder); a level whose estimated zoom at "fit" (`Drawing.estimateZoom`) is clearly below 1 is passed over before
 * anything is drawn — `pick` draws the one chosen and, should it still not read, goes on from the next. The ladder
 * from the next level is asked for too, right after the first (or once `spareAfter` settles), so passing over the
 * first waits for no second round trip. Order matters: one account runs GRASSROOTS_ACCOUNT_DB_CONCURRENCY (2)
 * transactions at once, the others wait their turn in the order they came.
 */
async function readableNetwork(code, level, asOf, from = 0, spareAfter = null) {
  const last = LADDER[level].length - 1;
  let answer = ask(networkRequest(code, level, asOf, from));
  const next = () => ask(networkRequest(code, level, asOf, from + 1));
  let spare = from < last ? (spareAfter ? spareAfter.then(next) : next()) : null; // taken once
  spare?.catch(() => {});
  for (;;) {
    const network = (await answer).network;
    if (network.truncated) return { network, step: null };
    const step = from + network.levelOfDetail;
    if (step === last || drawing.estimateZoom(network) >= SURELY_UNREADABLE) return { network, step };
    answer = step === from && spare ? spare : ask(networkRequest(code, level, asOf, step + 1));
    spare = null;
    from = step + 1;
  }
}

/**
 * The URL's scope's network, chosen while the area tree loads (`readableNetwork`); taken once. Its spare ladder is
 * asked once `spareAfter` settles (after the coverage and the area tree are asked): the first drawing waits for the
 * ladder, the spare only matters when its first level does not read.
 */
let earlyNetwork = null;

function sendEarlyNetwork(code, level, asOf, spareAfter) {
  const answer = readableNetwork(code, level, asOf, 0, spareAfter);
  answer.catch(() => {});
  earlyNetwork = { key: requestKey(networkRequest(code, level, asOf, 0)), answer };
}

function askNetwork(code, level, asOf) {
  const found = earlyNetwork?.key === requestKey(networkRequest(code, level, asOf, 0)) ? earlyNetwork.answer : null;
  earlyNetwork = null;
  return found ?? readableNetwork(code, level, asOf);
}
/** Developer timings in the status line only with `?debug=1` (people read counts, not milliseconds). */
const DEBUG = params.get("debug") === "1";
const HARD_CAP = 2000; // never more nodes than this on screen, expansions included
/** Gap kinds of the organization chain a collapsed child is marked with (households are counted, not marked). */
const CHAIN_METRICS = ["compounds", "buildings", "groups"];

const $ = (sel) => document.querySelector(sel);
const status = (text, kind = "") => {
  const el = $("#status");
  el.textContent = text;
  el.title = text;
  el.className = kind;
};

/** `me`: the signed-in account; `above`: the areas above its scope; `outside`: a `?scope=` it may not see. */
/** `asOf`: the day every figure and drawing is judged on ("" for today; `?asOf=` and the toolbar's picker). */
const state = { scope: null, token: 0, types: [], firstDrawing: true, gapNames: {}, me: null, above: [], outside: null,
  asOf: /^\d{4}-\d{2}-\d{2}$/.test(params.get("asOf") ?? "") ? params.get("asOf") : "" };
const drawing = new Drawing($("#graph"), {
  onSelect: (n) => select(n),
  onOpen: (n) => openNode(n),
  onMore: (n) => openMore(n),
  onFold: (n) => foldNode(n),
});
const details = new Details($("#details-body"), state.gapNames, {
  onExpand: (n) => expand(n),
  onMore: (n) => openMore(n),
  onFold: (n) => foldNode(n),
  onOpen: (n) => openNode(n),
  onChain: (chain) => showChain(chain),
  scope: () => state.scope?.code ?? null,
});
const dashboard = new Dashboard($("#children-table"), $("#chart"), $("#chart-metric"), (code, level, name) => {
  if (code) pick({ code, level, name, type: LEVELS[level]?.type });
});
const tree = new AreaTree($("#tree"), $("#search"), $("#search-hits"), (area) => pick(area), (hit) => find(hit));
window.grassroots = { state, drawing, budget: BUDGET, pick: (area) => pick(area), find: (hit) => find(hit) };

/** The level of an area code: 12-digit 统计用区划代码 (city, district, street, community) or a grid WG-…. */
function levelOf(code) {
  if (code.startsWith("WG-")) return "grid";
  if (code.slice(4) === "00000000") return "city";
  if (code.slice(6) === "000000") return "district";
  if (code.slice(9) === "000") return "street";
  return "community";
}

/** The header's path to the scope: the areas above the caller's scope, then the tree's rows down to it. */
function crumbs(code) {
  const names = [];
  let li = tree.area(code)?.li;
  while (li) {
    names.unshift(li.dataset.name);
    li = li.parentElement.closest("li");
  }
  $("#crumbs").textContent = [...state.above.map((a) => a.name ?? a.code), ...names].join(" › ");
}

/** A metric's name for people, from the API's CoverageMetric descriptions (Chinese part). */
function metricName(metric) {
  return String(state.metricDescriptions?.[metric] ?? metric).split(" / ")[0];
}

/** Count text of a collapsed child area: its rate of the colouring metric, its counts and its gaps. */
function countsText(child) {
  const chosen = child.figures[colourMetric()];
  if (!chosen || !chosen.units) return baseCountsText(child);
  const rate = ((chosen.covered / chosen.units) * 100).toFixed(1);
  // The short name ("住户联系 84.2%"): a collapsed area's label stays narrow enough to read at "fit" among 20.
  const metric = colourMetric();
  return `${SHORT[metric] ?? metricName(metric)} ${rate}%\n${baseCountsText(child)}`;
}

/** A child area's counts on its node: households (compounds, buildings and gaps: the table and the badge). */
function baseCountsText(child) {
  const f = child.figures;
  return f.households ? `住户 ${f.households.units.toLocaleString()}` : "";
}

/** The colouring metric's {units, covered} per area of a coverage answer: its scope's and its children's. */
function areaRates(coverage) {
  const metric = colourMetric();
  const out = new Map();
  for (const a of [coverage.scope, ...coverage.children]) {
    const f = a.figures.find((x) => x.metric === metric);
    if (a.area.code && f) out.set(a.area.code, { units: f.units, covered: f.covered });
  }
  return out;
}

const ORG_SCALE_HINT = "社区党委、网格党支部按所负责区域的覆盖率着色,颜色越深越低 / committees and branches: their areas' rate, darker is lower";

/** Colour the drawn organizations by their areas' rates (a network view); the scale shown when any is. */
function rateOrganizations() {
  if (document.body.dataset.mode !== "network" || !state.coverage) return;
  const coloured = drawing.rateOrganizations(areaRates(state.coverage));
  if (coloured) renderScale($("#scale"), metricName(colourMetric()), ORG_SCALE_HINT);
  $("#scale").hidden = !coloured;
}

/** The metric colouring collapsed areas: the dashboard's chart metric (households' contact by default). */
function colourMetric() {
  return $("#chart-metric").value || "households";
}

/**
 * A child area's shade: its rate of the colouring metric on the scale, its size by households (widths 112–188 px,
 * 112–164 among more than 12 areas, so that a street's twenty communities still read at "fit").
 */
function shadeOf(maxHouseholds, count = 1) {
  const span = count > 12 ? 52 : 76;
  return (child) => {
    const f = child.counts[colourMetric()];
    const rate = f && f.units ? f.covered / f.units : null;
    const households = child.counts.households?.units ?? 0;
    const size = Math.round(112 + span * Math.sqrt(households / Math.max(1, maxHouseholds)));
    return { rate, size, ...rateColour(rate) };
  };
}

async function drawCollapsed(area, coverage) {
  const children = coverage.children
    .filter((c) => c.area.code)
    .map((c) => {
      const figures = Object.fromEntries(c.figures.map((f) => [f.metric, f]));
      const level = LEVELS[c.level] ?? LEVELS.grid;
      return {
        code: c.area.code, name: c.area.name, type: level.type, typeName: level.name, figures, counts: figures,
        gapKinds: CHAIN_METRICS.filter((m) => figures[m]?.uncovered).map((m) => figures[m].gapKind),
        gapCount: CHAIN_METRICS.reduce((k, m) => k + (figures[m]?.uncovered ?? 0), 0),
      };
    });
  const most = Math.max(0, ...children.map((c) => c.counts.households?.units ?? 0));
  await drawing.showCollapsed(
    { code: area.code, name: coverage.scope.area.name, type: area.type, typeName: LEVELS[area.level]?.name },
    children,
    countsText,
    shadeOf(most, children.length),
  );
  state.shade = shadeOf(most, children.length);
  renderScale($("#scale"), metricName(colourMetric()));
  return children.length;
}

/**
 * Pick a scope: draw it (or its children as counts when too big) and show its coverage. With `treeReady` (the
 * URL's scope, picked while the area tree still loads) the network is drawn and painted as soon as it is answered,
 * and the rest — the tree's row, figures, status and `data-drawn` — waits for the tree; a refusal then is not shown
 * (`main` picks what the tree allows). False when it failed (an early pick's refusal), else true (done, or
 * superseded by a later pick).
 */
async function pick(area, treeReady = null) {
  const token = ++state.token;
  const level = area.level ?? levelOf(area.code);
  area = { ...area, level, type: area.type ?? LEVELS[level].type };
  state.scope = area;
  const url = new URL(window.location.href);
  url.searchParams.set("scope", area.code);
  if (state.asOf) url.searchParams.set("asOf", state.asOf);
  else url.searchParams.delete("asOf");
  window.history.replaceState(null, "", url);
  $("#scope-title").textContent = `${LEVELS[level].name}:${area.name ?? area.code}`;
  const day = state.asOf ? `&asOf=${state.asOf}` : "";
  $("#audit").href = `/reports/audit.xlsx?scope=${encodeURIComponent(area.code)}${day}`;
  details.clear();
  status("加载中… / loading…");
  document.body.dataset.drawn = "";
  (treeReady ?? Promise.resolve()).then(async () => {
    if (token !== state.token) return;
    await tree.reveal(area.code);
    if (token === state.token) crumbs(area.code);
  });
  const started = performance.now();
  try {
    const asOf = state.asOf || null;
    const requests = scopeRequests(area.code, level, asOf);
    const coverageP = ask(requests.coverage);
    // The level of detail to draw: the first that fits this window and reads at "fit" (`readableNetwork`).
    const ladder = LADDER[level] ?? [];
    let chosen = LADDER[level] ? askNetwork(area.code, level, asOf) : null;
    chosen?.catch(() => {});
    early.clear();
    let message;
    let fetched = null;
    let drawn = null; // the level of detail drawn, when a network was
    let tried = 0; // levels of detail drawn to see whether they read
    while (chosen) {
      const { network, step } = await chosen;
      if (token !== state.token) return true;
      fetched ??= performance.now();
      if (step === null) break; // no level fits: the scope is drawn as its child areas
      tried += 1;
      await drawing.show(network);
      const last = step === ladder.length - 1;
      if (drawing.readable() || (last && level === "grid")) {
        drawn = { step, types: ladder[step] };
        break;
      }
      chosen = last ? null : readableNetwork(area.code, level, asOf, step + 1); // the estimate was kind
    }
    let first = null; // the timing of an early pick's picture, painted before the tree
    if (treeReady) {
      if (drawn) {
        const laidOut = performance.now();
        await painted();
        first = timingOf(area.code, started, fetched, laidOut, tried);
        markFirstDrawing(area.code);
      }
      await treeReady;
      if (token !== state.token) return true;
    }
    const coverage = (await coverageP).coverage;
    if (token !== state.token) return true;
    fetched ??= performance.now();
    $("#scope-title").textContent = `${LEVELS[level].name}:${coverage.scope.area.name}`;
    state.types = drawn ? drawn.types : [];
    state.coverage = coverage;
    if (drawn) {
      const s = drawing.summary();
      const more = s.holding ? `;${s.holding} 个节点含未展开的下级(+,双击展开)/ ${s.holding} hold more (+, double-click)` : "";
      message = `已绘制 ${s.nodes} 个节点,空白点 ${s.gaps} 处${more} / ${s.nodes} nodes, ${s.gaps} with gaps`;
      document.body.dataset.mode = "network";
      document.body.dataset.detail = String(drawn.step);
      rateOrganizations();
    } else {
      const n = await drawCollapsed(area, coverage);
      message = LADDER[level]
        ? `范围过大,已折叠为 ${n} 个下级区域 / too big to draw readably: ${n} child areas; 双击展开 / double-click to open`
        : `已折叠为 ${n} 个下级区域 / ${n} child areas; 双击展开 / double-click to open`;
      document.body.dataset.mode = "collapsed";
      delete document.body.dataset.detail;
    }
    const laidOut = performance.now();
    renderFigures($("#coverage-figures"), coverage);
    dashboard.show(coverage);
    if (token !== state.token) return true;
    await painted();
    const ms = performance.now() - started;
    state.timing = first ?? timingOf(area.code, started, fetched, laidOut, tried);
    markFirstDrawing(area.code);
    performance.mark("grassroots:drawn", { detail: { scope: area.code, ms } });
    const shown = DEBUG ? `${message} · ${Math.round(ms)} ms` : message;
    status(shown, document.body.dataset.mode === "collapsed" ? "warn" : "");
    document.body.dataset.drawn = area.code;
    // The trend lines are asked once the picture is painted: a street's or larger area's history is the dearest of
    // a scope's answers, and the picture should not share the server with it. Its failure leaves the cells empty.
    ask(requests.history).then((h) => {
      if (token === state.token) renderTrends($("#coverage-figures"), h.coverageHistory);
    }, () => {});
    return true;
  } catch (err) {
    if (token !== state.token) return true;
    if (treeReady) return false;
    status(err.message, "error");
    document.body.dataset.drawn = "error";
    return false;
  }
}

/** Where a pick's time went (the benchmark reports it): API answers, drawing and layout, the rest until painted. */
function timingOf(scope, started, fetched, laidOut, tried) {
  const now = performance.now();
  return { scope, api: fetched - started, draw: laidOut - fetched, layout: drawing.layoutMs ?? 0, paint: now - laidOut,
    total: now - started, tried };
}

/** Resolves once what was drawn has been painted (two animation frames). */
function painted() {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
}

/** The `grassroots:first-drawing` mark, once: the first picture laid out and painted (the page benchmark's measure). */
function markFirstDrawing(code) {
  if (!state.firstDrawing) return;
  performance.mark("grassroots:first-drawing", { detail: { scope: code } });
  state.firstDrawing = false;
}

function select(node) {
  details.show(node);
}

function openNode(node) {
  const level = Object.keys(LEVELS).find((l) => LEVELS[l].type === node.type);
  if (level) pick({ code: node.code, level, name: node.label, type: node.type });
}

/** Expand a node: the network one step around it (households too, for a building), merged into the drawing. */
async function expand(node) {
  if (node.collapsed) {
    openNode(node);
    return;
  }
  status(`展开 ${node.label}… / expanding…`);
  try {
    const households = node.type === "Building" || node.type === "CentralHousehold";
    const network = (await gql(NETWORK, { root: node.code, depth: 1, max: EXPAND_BUDGET, households })).network;
    if (drawing.summary().nodes + network.nodes.length > HARD_CAP) {
      status(`节点过多(上限 ${HARD_CAP}),请缩小范围 / too many nodes (cap ${HARD_CAP}): narrow the scope`, "warn");
      return;
    }
    const added = await drawing.merge(network, { opened: node.id });
    rateOrganizations();
    const s = drawing.summary();
    status(`展开 ${node.label}:新增 ${added} 个节点,共 ${s.nodes} 个 / expanded: ${added} new, ${s.nodes} in all` +
      (network.truncated ? `(已截断 / truncated at ${EXPAND_BUDGET})` : ""));
    document.body.dataset.expanded = node.code;
  } catch (err) {
    status(err.message, "error");
  }
}

/**
 * Open what a node holds (its "+楼栋 12" lines): those types one step from it, drawn beside it. Buildings come
 * with the groups and compounds they belong to (two steps), so the drawing shows who answers for each.
 */
async function openMore(node) {
  const held = node.more ?? [];
  if (!held.length) return;
  status(`展开 ${node.label}… / opening…`);
  try {
    const buildings = held.some((m) => m.type === "Building");
    const types = [...new Set([...state.types, node.type, ...held.map((m) => m.type),
      ...(buildings ? ["BuildingGroup", "Compound"] : [])])];
    const asked = { root: node.code, depth: buildings ? 2 : 1, max: EXPAND_BUDGET, households: false,
      asOf: state.asOf || null, types };
    const network = (await gql(NETWORK, asked)).network;
    if (drawing.summary().nodes + network.nodes.length > HARD_CAP) {
      status(`节点过多(上限 ${HARD_CAP}),请缩小范围 / too many nodes (cap ${HARD_CAP}): narrow the scope`, "warn");
      return;
    }
    const added = await drawing.merge(network, { opened: node.id });
    rateOrganizations();
    if (details.node?.id === node.id) details.show(drawing.cy.getElementById(node.id).data());
    const s = drawing.summary();
    status(`已展开 ${node.label}:新增 ${added} 个节点,共 ${s.nodes} 个 / opened: ${added} new, ${s.nodes} in all` +
      (network.truncated ? `(已截断 / truncated at ${EXPAND_BUDGET})` : ""));
    document.body.dataset.expanded = node.code;
  } catch (err) {
    status(err.message, "error");
  }
}

/** Fold an opened node back to its held counts (double-click it again, or 收起 in its details). */
async function foldNode(node) {
  const removed = await drawing.fold(node.id);
  const s = drawing.summary();
  status(`已收起 ${node.label}:移除 ${removed} 个节点,共 ${s.nodes} 个 / folded: ${removed} removed, ${s.nodes} in all`);
  if (details.node?.id === node.id) details.show({ ...node, ...drawing.cy.getElementById(node.id).data() });
  document.body.dataset.folded = node.code;
}

/** The community (or street) a code lies in, from its own code (`PREFIX-<12-digit area code>-…`). */
function areaOfCode(code) {
  const m = /^[A-Z]+-(\d{12})-/.exec(code);
  return m ? m[1] : null;
}

/**
 * Find a search hit in the picture: open its community when it lies in another, bring it in with its drawn
 * neighbours when a level of detail left it out, then highlight the path from the scope to it.
 */
async function find(hit) {
  const area = areaOfCode(hit.code);
  const level = area ? levelOf(area) : null;
  if (area && level === "community" && state.scope?.code !== area && !drawing.cy.nodes().some((n) => n.data("code") === hit.code)) {
    await pick({ code: area, level });
  }
  let path = drawing.focus(hit.code);
  if (!path && document.body.dataset.mode === "network") {
    try {
      const types = state.types.length ? state.types : null;
      const asked = { root: hit.code, depth: 1, max: EXPAND_BUDGET, households: false, asOf: state.asOf || null, types };
      const network = (await gql(NETWORK, asked)).network;
      await drawing.merge(network);
      rateOrganizations();
      path = drawing.focus(hit.code);
    } catch (err) {
      status(err.message, "error");
      return;
    }
  }
  const node = drawing.cy.nodes().filter((n) => n.data("code") === hit.code)[0];
  details.show(node ? node.data() : { ...hit, gaps: [] });
  status(path
    ? `已找到 ${hit.label}(${hit.typeName}),蓝色为从 ${state.scope?.name ?? ""} 到它的路径 / found: the blue path leads to it`
    : `${hit.label}(${hit.typeName})不在当前图中 / not in this picture`, path ? "" : "warn");
  document.body.dataset.found = hit.code;
}

/** "Show on the picture": the responsibility chain's subject and organizations highlighted where drawn. */
function showChain(chain) {
  const codes = [chain.subject?.code, ...chain.links.map((l) => l.organization?.code)].filter(Boolean);
  const drawnCount = drawing.highlight(codes);
  status(`责任链 ${codes.length} 个环节中 ${drawnCount} 个在图中(蓝色)/ ${drawnCount} of ${codes.length} links of the chain drawn (blue)`);
  document.body.dataset.chain = chain.subject?.code ?? "";
}

/** The picture's file name: the scope's name and the day it is judged on. */
function pictureName(ext) {
  const day = state.asOf || new Date().toISOString().slice(0, 10);
  return `${state.scope?.name ?? state.scope?.code ?? "network"}-${day}.${ext}`.replace(/[\\/:*?"<>|]/g, "_");
}

/** The areas above the caller's scope: shown apart from the tree, by name and code, not to be picked. */
function renderAbove(above) {
  const box = $("#above");
  box.hidden = !above.length;
  box.querySelector("ol").innerHTML = above
    .map((a) => `<li data-code="${esc(a.code)}" data-level="${a.level}"><span class="name">${esc(a.name ?? a.code)}</span>
      <span class="kind">${LEVELS[a.level].name} ${esc(a.code)}</span></li>`)
    .join("");
}

/** Where the page starts: `?scope=` when the tree has it (or its community, for a grid), else the caller's scope. */
function startArea(root) {
  const wanted = params.get("scope");
  if (!wanted) return tree.area(root.code);
  const known = tree.area(wanted) ?? (wanted.startsWith("WG-") && tree.area(wanted.slice(3, 15)) ? { code: wanted } : null);
  if (!known) {
    state.outside = wanted;
    return tree.area(root.code);
  }
  return known;
}

async function main() {
  renderLegend($("#legend"), (off) => drawing.filter({ off }));
  $("#gaps-only").addEventListener("change", (evt) => drawing.filter({ onlyGaps: evt.target.checked }));
  $("#export-png").addEventListener("click", async () => save(await drawing.png(), pictureName("png")));
  $("#export-svg").addEventListener("click", () =>
    save(new Blob([drawing.svg()], { type: "image/svg+xml" }), pictureName("svg")));
  for (const [button, cls] of [["#toggle-side", "no-side"], ["#toggle-right", "no-right"], ["#toggle-dash", "no-dash"]]) {
    $(button).addEventListener("click", () => {
      document.body.classList.toggle(cls);
      $(button).setAttribute("aria-pressed", String(document.body.classList.contains(cls)));
      drawing.cy.resize();
      drawing.fit();
    });
  }
  // A short window keeps the drawing tall: the dashboard starts folded (its button opens it).
  if (window.innerHeight < 860) document.body.classList.add("no-dash");
  $("#toggle-dash").setAttribute("aria-pressed", String(document.body.classList.contains("no-dash")));
  $("#fit").addEventListener("click", () => drawing.fit());
  $("#relayout").addEventListener("click", () => drawing.layout());
  $("#chart-metric").addEventListener("change", () => {
    rateOrganizations();
    if (document.body.dataset.mode !== "collapsed" || !state.shade) return;
    drawing.recolour(state.shade);
    drawing.cy.nodes(".rated").forEach((n) => {
      n.data("display", `${breakable(n.data("label"))}\n${countsText({ figures: n.data("counts") })}`);
    });
    renderScale($("#scale"), metricName(colourMetric()));
  });
  const picker = $("#as-of");
  picker.max = new Date().toISOString().slice(0, 10);
  picker.value = state.asOf;
  picker.addEventListener("change", () => {
    state.asOf = /^\d{4}-\d{2}-\d{2}$/.test(picker.value) ? picker.value : "";
    if (state.scope) pick(state.scope);
  });
  // The URL's scope is asked for while the area tree loads (a scope outside the caller's is refused and re-asked),
  // and a community's or grid's network drawn as soon as it is answered (`pick` with `treeReady`).
  const wanted = params.get("scope");
  let treeRendered;
  const treeReady = new Promise((resolve) => { treeRendered = resolve; });
  let earlyPick = null;
  let treeAsked;
  const spareAfter = new Promise((resolve) => { treeAsked = resolve; });
  if (wanted && /^(\d{12}|WG-\d{12}-[\w-]+)$/.test(wanted)) {
    const [level, asOf] = [levelOf(wanted), state.asOf || null];
    if (LADDER[level]) sendEarlyNetwork(wanted, level, asOf, spareAfter); // asked first: the picture waits for it
    sendEarly(scopeRequests(wanted, level, asOf).coverage);
    if (LADDER[level]) earlyPick = pick({ code: wanted, level }, treeReady);
  }
  const areaTree = gql(AREA_TREE);
  treeAsked();
  let data;
  try {
    data = await areaTree;
  } catch (err) {
    state.token += 1; // the early pick stops here
    status(err.message, "error");
    $("#tree").textContent = err.message;
    document.body.dataset.drawn = "error";
    return;
  }
  for (const v of data.gapKinds.enumValues) state.gapNames[v.name] = v.description;
  state.metricDescriptions = Object.fromEntries(data.metrics.enumValues.map((v) => [v.name, v.description]));
  state.metricNames = Object.fromEntries(
    data.metrics.enumValues.map((v) => [v.name, { compounds: "小区", buildings: "楼栋", groups: "党小组" }[v.name] ?? v.name]),
  );
  state.me = data.me;
  window.grassroots.me = data.me;
  showAccount($("#account"), data.me);
  applyGrants(document, data.me);
  if (!data.cities.length) {
    state.token += 1; // nothing to draw: the early pick stops
    $("#tree").textContent = "";
    status("没有可见的区域 / no areas to show: load data first", "warn");
    return;
  }
  const at = data.me ? rootAt(data.cities, data.me.scope.code, data.me.scope.name) : null;
  state.above = at ? at.above : [];
  renderAbove(state.above);
  if (at) tree.render([at.root], at.level);
  else tree.render(data.cities);
  const start = startArea(at ? at.root : data.cities[0]);
  const keep = earlyPick && start.code === wanted;
  if (earlyPick && !keep) state.token += 1; // the tree does not have it: the early pick stops
  treeRendered();
  if (!(keep && (await earlyPick))) await pick(start);
  if (state.outside && document.body.dataset.drawn !== "error") {
    status(`${state.outside} 不在您可查看的区域内,已显示您的范围 / ${state.outside} is not among the areas you may see: ` +
      "showing your scope instead", "warn");
  }
}

main();
