// Node and edge styles of the drawing, and the legend that explains them (the same table feeds both).

/** Type families: colour and shape by what a node is. */
export const FAMILIES = [
  { key: "area", name: "区域 / area", types: ["City", "District", "Street", "Community", "Grid"],
    fill: "#dbe9f7", border: "#4a78b0", shape: "round-rectangle" },
  { key: "compound", name: "小区 / compound", types: ["Compound"], fill: "#e3f2e1", border: "#4c8c4a",
    shape: "cut-rectangle" },
  { key: "building", name: "楼栋 / building", types: ["Building"], fill: "#eef0f3", border: "#7a8594",
    shape: "rectangle" },
  { key: "party", name: "党组织 / party organization",
    types: ["StreetWorkingCommittee", "CommunityCommittee", "GridBranch", "BuildingGroup"],
    fill: "#fff3cd", border: "#c9a227", shape: "ellipse" },
  { key: "central", name: "党员中心户 / central household", types: ["CentralHousehold"], fill: "#fff3cd",
    border: "#c9a227", shape: "triangle" },
  { key: "other", name: "共建单位、居委会、物业等 / partners etc.",
    types: ["Unit", "ResidentsCommittee", "ServiceCenter", "RedStation", "PropertyCompany", "OwnersCommittee"],
    fill: "#f3e8fd", border: "#8e6bbf", shape: "hexagon" },
  { key: "household", name: "住户 / household", types: ["Household"], fill: "#ffffff", border: "#9aa3ad",
    shape: "ellipse" },
];

/** Marks drawn over the type style: gaps (colour and shape), partial coverage, collapsed areas. */
export const MARKS = [
  { cls: "gap", name: "空白点(红色八边形)/ gap: red octagon", fill: "#e53935", border: "#7f0000", shape: "octagon" },
  { cls: "partial", name: "部分住户未联系中心户 / some households unlinked", fill: "#eef0f3",
    border: "#ef6c00", shape: "rectangle", dashed: true },
  { cls: "collapsed", name: "折叠的下级区域(双击展开)/ collapsed area: double-click", fill: "#f7f8fa",
    border: "#4a78b0", shape: "barrel", double: true },
  { cls: "has-more", name: "含未展开的下级(+,双击展开;红色数字为其中空白)/ holds more (+): double-click; red badge: gaps in it",
    fill: "#ffffff", border: "#5f6b7a", shape: "round-rectangle", dashed: true },
];

export const FAMILY_OF = Object.fromEntries(FAMILIES.flatMap((f) => f.types.map((t) => [t, f])));

/**
 * The node type a left-out type is counted on ("+楼栋 12"): its parent link in core/model.py (`parent=True`;
 * tests/test_page_lod.py checks this table against the model), and for the two without one, the node they serve.
 */
export const HOME = {
  Street: "District",
  Community: "Street",
  Grid: "Community",
  Compound: "Community",
  Building: "Grid",
  StreetWorkingCommittee: "Street",
  CommunityCommittee: "Community",
  GridBranch: "CommunityCommittee",
  BuildingGroup: "GridBranch",
  CentralHousehold: "BuildingGroup",
  ResidentsCommittee: "Community",
  OwnersCommittee: "Compound",
  ServiceCenter: "Community",
  RedStation: "Community",
  Unit: "Community", // no parent: a partner unit reports to communities
  PropertyCompany: "Compound", // no parent: a property company manages compounds
};

/**
 * The sequential scale collapsed areas are coloured on by a metric's rate: dark red at 0 (the worst areas stand
 * out) through orange and yellow to a pale yellow at 100 % (ColorBrewer YlOrRd, reversed). No rate: grey.
 */
export const RATE_STOPS = [
  [0, [189, 0, 38]],
  [0.5, [240, 59, 32]],
  [0.8, [253, 141, 60]],
  [0.9, [254, 204, 92]],
  [1, [255, 255, 204]],
];

/** The fill of a rate on the scale (`#rrggbb`), and whether its label needs light text. */
export function rateColour(rate) {
  if (rate == null) return { fill: "#e0e3e7", light: false };
  const r = Math.max(0, Math.min(1, rate));
  let i = 1;
  while (i < RATE_STOPS.length - 1 && RATE_STOPS[i][0] < r) i += 1;
  const [a, ca] = RATE_STOPS[i - 1];
  const [b, cb] = RATE_STOPS[i];
  const t = b > a ? (r - a) / (b - a) : 0;
  const rgb = ca.map((c, k) => Math.round(c + (cb[k] - c) * t));
  const hex = `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
  return { fill: hex, light: 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140 };
}

/** A rated node's data (`node.rated`, `node.org-rated` read them): its rate, its fill and the ink of its label.
 *  `shade`: `rateColour(rate)`'s answer, when the caller has it already. */
export function rateData(rate, shade = rateColour(rate)) {
  return { rate, fill: shade.fill, ink: shade.light ? "#ffffff" : "#1f2329" };
}

/** The scale's legend: a gradient bar from 0 to 100 % under the metric's name. */
export function renderScale(el, metricName, hint = "颜色越深覆盖率越低;大小按住户数 / darker: lower rate; size: households") {
  const stops = RATE_STOPS.map(([at]) => `${rateColour(at).fill} ${at * 100}%`).join(", ");
  el.innerHTML = `<span class="scale-name">色阶 / scale: ${metricName}</span><span>0%</span><span class="scale-bar"
    style="background: linear-gradient(to right, ${stops})"></span><span>100%</span>
    <span class="hint">${hint}</span>`;
  el.hidden = false;
}

/** A node's box (px at zoom 1) by its family, when it holds nothing left out (`default`: every other family). */
export const BOX = { default: [112, 40], other: [112, 46], central: [46, 40], household: [56, 26] };

export function cyStyle() {
  const rules = [
    {
      selector: "node",
      style: {
        label: "data(display)", "font-size": 12, "text-wrap": "wrap", "text-max-width": 104, "text-valign": "center",
        "text-halign": "center", width: BOX.default[0], height: BOX.default[1], "border-width": 1.5, color: "#1f2329",
        "min-zoomed-font-size": 6,
      },
    },
    ...FAMILIES.map((f) => ({
      selector: `node.${f.key}`,
      style: { "background-color": f.fill, "border-color": f.border, shape: f.shape },
    })),
    // A hexagon's text room is narrower than its box: long names (a property company's) wrap inside it.
    { selector: "node.other", style: { "text-max-width": 84, width: BOX.other[0], height: BOX.other[1] } },
    { selector: "node.central", style: { width: BOX.central[0], height: BOX.central[1], "text-valign": "bottom",
      "text-margin-y": 2, "text-max-width": 110 } },
    { selector: "node.household", style: { width: BOX.household[0], height: BOX.household[1] } },
    { selector: "node.has-more", style: { height: "data(h)", width: "data(w)", "text-max-width": "data(w)",
      "border-style": "dashed" } },
    { selector: "node.partial", style: { "border-color": "#ef6c00", "border-style": "dashed", "border-width": 3 } },
    { selector: "node.collapsed", style: { "background-color": "#f7f8fa", "border-color": "#4a78b0",
      "border-style": "double", "border-width": 5, shape: "barrel", width: 170, height: 76, "text-max-width": 160 } },
    { selector: "node.rated", style: { "background-color": "data(fill)", color: "data(ink)", "border-style": "solid",
      "border-width": 2, "border-color": "#5f6b7a", width: "data(w)", height: "data(h)", "font-size": 13,
      "text-max-width": "data(w)" } },
    { selector: "node.org-rated", style: { "background-color": "data(fill)", color: "data(ink)" } },
    { selector: "node.badge", style: { shape: "ellipse", width: 26, height: 26, "background-color": "#e53935",
      "border-color": "#ffffff", "border-width": 2, color: "#ffffff", "font-size": 12, "font-weight": "bold",
      events: "no" } },
    { selector: "node.off", style: { display: "none" } },
    { selector: ".faded", style: { opacity: 0.18 } },
    { selector: "node.path", style: { "underlay-color": "#1565c0", "underlay-opacity": 0.35, "underlay-padding": 7 } },
    { selector: "edge.path", style: { "line-color": "#1565c0", width: 4 } },
    { selector: "node.gap", style: { "background-color": "#e53935", "border-color": "#7f0000", "border-width": 3,
      shape: "octagon", color: "#ffffff", "font-weight": "bold" } },
    { selector: "node.root", style: { "border-width": 4 } },
    { selector: "node:selected", style: { "overlay-color": "#1565c0", "overlay-opacity": 0.18, "overlay-padding": 6 } },
    { selector: "edge", style: { width: 1, "line-color": "#b8bec7", "curve-style": "straight" } },
    { selector: "edge.same-row", style: { "line-style": "dashed", "line-color": "#d0a93a" } },
    { selector: "edge.area-link", style: { "line-color": "#4a78b0", width: 1.5 } },
  ];
  return rules;
}

function swatch(shape, fill, border, { dashed = false, double = false } = {}) {
  const paths = {
    "round-rectangle": '<rect x="2" y="4" width="26" height="14" rx="4"/>',
    rectangle: '<rect x="2" y="4" width="26" height="14"/>',
    "cut-rectangle": '<polygon points="6,4 24,4 28,8 28,14 24,18 6,18 2,14 2,8"/>',
    ellipse: '<ellipse cx="15" cy="11" rx="13" ry="7"/>',
    triangle: '<polygon points="15,3 27,19 3,19"/>',
    hexagon: '<polygon points="8,4 22,4 28,11 22,18 8,18 2,11"/>',
    octagon: '<polygon points="10,2 20,2 27,7 27,15 20,20 10,20 3,15 3,7"/>',
    barrel: '<rect x="2" y="4" width="26" height="14" rx="7" ry="3"/>',
  };
  const dash = dashed ? ' stroke-dasharray="3 2"' : "";
  const width = double ? 3 : dashed ? 2 : 1.5;
  return `<svg width="30" height="22" viewBox="0 0 30 22" aria-hidden="true"><g fill="${fill}" stroke="${border}"
    stroke-width="${width}"${dash}>${paths[shape]}</g></svg>`;
}

/**
 * The legend: one swatch per type family — each a switch that shows or hides that family in the drawing
 * (`onToggle(familiesOff)`) — and one per mark.
 */
export function renderLegend(el, onToggle = () => {}) {
  const families = FAMILIES.map((f) => `<label class="item toggle" data-legend="${f.key}" title="显示/隐藏 / show or hide">
      <input type="checkbox" data-family="${f.key}" checked>${swatch(f.shape, f.fill, f.border)}<span>${f.name}</span></label>`);
  const marks = MARKS.map((m) => `<span class="item" data-legend="${m.cls}">${swatch(m.shape, m.fill, m.border, m)}<span>${
    m.name}</span></span>`);
  el.innerHTML = [...families, ...marks].join("");
  el.addEventListener("change", (evt) => {
    if (!evt.target.matches("input[data-family]")) return;
    const off = [...el.querySelectorAll("input[data-family]")].filter((i) => !i.checked).map((i) => i.dataset.family);
    onToggle(off);
  });
}
