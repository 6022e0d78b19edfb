// The picture as a file: the current view of the drawing as SVG (vector, for print and slides). Cytoscape.js
// draws on a canvas and exports PNG itself; SVG is written here from what it has rendered (positions, sizes,
// shapes, colours, labels), because the one SVG exporter for it (cytoscape-svg) is GPL-licensed.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Polygon shapes as points on a unit box (-1…1), as Cytoscape's own shapes are drawn. */
const POLYGONS = {
  triangle: [[0, -1], [1, 1], [-1, 1]],
  hexagon: [[-0.5, -1], [0.5, -1], [1, 0], [0.5, 1], [-0.5, 1], [-1, 0]],
  octagon: [[-0.41, -1], [0.41, -1], [1, -0.41], [1, 0.41], [0.41, 1], [-0.41, 1], [-1, 0.41], [-1, -0.41]],
  "cut-rectangle": [[-0.8, -1], [0.8, -1], [1, -0.7], [1, 0.7], [0.8, 1], [-0.8, 1], [-1, 0.7], [-1, -0.7]],
};

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const num = (x) => Math.round(x * 10) / 10;

function shapeOf(node, x, y, w, h, paint) {
  const shape = node.style("shape");
  if (shape === "ellipse") return `<ellipse cx="${num(x)}" cy="${num(y)}" rx="${num(w / 2)}" ry="${num(h / 2)}"${paint}/>`;
  if (POLYGONS[shape]) {
    const points = POLYGONS[shape].map(([px, py]) => `${num(x + (px * w) / 2)},${num(y + (py * h) / 2)}`).join(" ");
    return `<polygon points="${points}"${paint}/>`;
  }
  const r = shape === "round-rectangle" ? Math.min(8, h / 4) : shape === "barrel" ? h / 3 : 0;
  return `<rect x="${num(x - w / 2)}" y="${num(y - h / 2)}" width="${num(w)}" height="${num(h)}" rx="${num(r)}"${paint}/>`;
}

function labelOf(node, x, y, h, zoom) {
  const text = node.style("label");
  if (!text) return "";
  const size = Number.parseFloat(node.style("font-size")) * zoom;
  const lines = String(text).split("\n");
  const below = node.style("text-valign") === "bottom";
  const top = below ? y + h / 2 + size : y - ((lines.length - 1) * size * 1.2) / 2 + size * 0.35;
  const spans = lines.map((l, i) => `<tspan x="${num(x)}" y="${num(top + i * size * 1.2)}">${esc(l)}</tspan>`).join("");
  const weight = node.style("font-weight") === "bold" ? ' font-weight="bold"' : "";
  return `<text text-anchor="middle" font-size="${num(size)}" fill="${node.style("color")}"${weight}>${spans}</text>`;
}

/** The view as an SVG document: visible edges, then nodes with their labels, in rendered (screen) coordinates. */
export function toSvg(cy) {
  const zoom = cy.zoom();
  const width = cy.width();
  const height = cy.height();
  const parts = [];
  cy.edges(":visible").forEach((e) => {
    const a = e.renderedSourceEndpoint();
    const b = e.renderedTargetEndpoint();
    const dash = e.style("line-style") === "dashed" ? ' stroke-dasharray="6 4"' : "";
    parts.push(`<line x1="${num(a.x)}" y1="${num(a.y)}" x2="${num(b.x)}" y2="${num(b.y)}" stroke="${
      e.style("line-color")}" stroke-width="${num(Number.parseFloat(e.style("width")) * zoom)}" opacity="${
      e.style("opacity")}"${dash}/>`);
  });
  cy.nodes(":visible").forEach((n) => {
    const { x, y } = n.renderedPosition();
    const w = n.renderedWidth();
    const h = n.renderedHeight();
    const border = Number.parseFloat(n.style("border-width")) * zoom;
    const dash = n.style("border-style") === "dashed" ? ' stroke-dasharray="5 3"' : "";
    const paint = ` fill="${n.style("background-color")}" stroke="${n.style("border-color")}" stroke-width="${
      num(border)}"${dash}`;
    parts.push(`<g data-code="${esc(n.data("code") ?? "")}" opacity="${n.style("opacity")}">${
      shapeOf(n, x, y, w, h, paint)}${labelOf(n, x, y, h, zoom)}</g>`);
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="${SVG_NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif">
<rect width="100%" height="100%" fill="#ffffff"/>
${parts.join("\n")}
</svg>
`;
}

/** Save a Blob under a name, as a download. */
export function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
