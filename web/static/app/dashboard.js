// Coverage of the scope (beside the drawing) and of its child areas: a sortable table and a bar chart (SVG).
import { esc } from "./tree.js";

/** The four levels of the network first, then the rest. */
export const TABLE_METRICS = ["compounds", "buildings", "groups", "households", "propertyManaged", "membersReported"];
/** Short Chinese names of the metrics (the table's headings, the chart's choices, the collapsed areas' labels). */
export const SHORT = {
  compounds: "小区覆盖", buildings: "楼栋覆盖", groups: "党小组有中心户", households: "住户联系",
  propertyManaged: "物业覆盖", serviceCenters: "服务中心", partnerReported: "单位报到", membersReported: "党员报到",
};

export function pct(rate) {
  return rate == null ? "—" : `${(rate * 100).toFixed(1)}%`;
}

function grade(rate) {
  if (rate == null) return "";
  return rate < 0.85 ? "bad" : rate < 0.95 ? "low" : "";
}

function zh(description) {
  return String(description || "").split(" / ")[0];
}

/** The scope's figures: covered / units, rate and a bar, the uncovered count in red. */
export function renderFigures(el, coverage) {
  const rows = coverage.scope.figures
    .filter((f) => f.units > 0)
    .map(
      (f) => `<tr data-metric="${f.metric}"><td>${esc(zh(f.description))}<div class="bar-trend">
        <div class="rate-bar ${grade(f.rate)}"><span style="width:${((f.rate ?? 0) * 100).toFixed(1)}%"></span></div>
        <span class="trend" title="近12个月趋势 / the last 12 months"></span></div></td>
        <td class="num">${f.covered.toLocaleString()}/${f.units.toLocaleString()}</td>
        <td class="num">${pct(f.rate)}</td>
        <td class="num ${f.uncovered ? "chain-broken" : ""}" title="未覆盖 / uncovered">${
          f.uncovered ? f.uncovered.toLocaleString() : ""}</td></tr>`,
    );
  // The trend sits beside the rate bar, inside the metric's cell, so the table fits the right column at 1366 px.
  el.innerHTML = `<p class="hint">${esc(coverage.scope.area.name)} · 判定日期 / as of ${esc(coverage.asOf)}</p>
    <table class="figures"><thead><tr><th>指标 · 趋势 / metric</th><th>已覆盖/应覆盖</th><th>覆盖率</th>
    <th>空白</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** A small line of one metric's rate over a history's days (0–100 %, the last day marked); "" with no rate. */
export function sparkline(points, metric, width = 56, height = 20) {
  const rates = points.map((p) => p.figures.find((f) => f.metric === metric)?.rate ?? null);
  const known = rates.map((r, i) => [i, r]).filter(([, r]) => r != null);
  if (!known.length) return "";
  const x = (i) => (points.length > 1 ? (i / (points.length - 1)) * (width - 4) + 2 : width / 2);
  const y = (r) => height - 2 - r * (height - 4);
  const line = known.map(([i, r]) => `${x(i).toFixed(1)},${y(r).toFixed(1)}`).join(" ");
  const [li, lr] = known[known.length - 1];
  const [fi, fr] = known[0];
  const label = `${points[fi].asOf} ${pct(fr)} → ${points[li].asOf} ${pct(lr)}`;
  return `<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"
    aria-label="${esc(label)}" data-points="${known.length}"><title>${esc(label)}</title>
    <polyline points="${line}" fill="none" stroke="#b71c1c" stroke-width="1.5"/>
    <circle cx="${x(li).toFixed(1)}" cy="${y(lr).toFixed(1)}" r="2" fill="#b71c1c"/></svg>`;
}

/** Fill the trend cells of `renderFigures`' table from a `coverageHistory` answer. */
export function renderTrends(el, history) {
  for (const row of el.querySelectorAll("tr[data-metric]")) {
    const cell = row.querySelector(".trend");
    if (cell) cell.innerHTML = sparkline(history.points, row.dataset.metric);
  }
}

/** The children of a coverage answer as flat rows: name, code, and a figure per metric. */
export function childRows(coverage) {
  return coverage.children.map((c) => {
    const figures = Object.fromEntries(c.figures.map((f) => [f.metric, f]));
    return { code: c.area.code, name: c.area.name ?? "(无网格 / no grid)", level: c.level, figures };
  });
}

export class Dashboard {
  constructor(table, chart, select, onPick) {
    this.table = table;
    this.chart = chart;
    this.select = select;
    this.onPick = onPick;
    this.rows = [];
    this.sort = { key: "name", dir: 1 };
    select.innerHTML = TABLE_METRICS.map((m) => `<option value="${m}">${SHORT[m]} / ${m}</option>`).join("");
    select.value = "households";
    select.addEventListener("change", () => this.drawChart());
    table.tHead.addEventListener("click", (evt) => {
      const th = evt.target.closest("th");
      if (!th) return;
      const key = th.dataset.key;
      this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : key === "name" ? 1 : 1 };
      if (key !== "name" && key !== "households-units") this.select.value = key;
      this.render();
    });
    table.tBodies[0].addEventListener("click", (evt) => {
      const tr = evt.target.closest("tr");
      if (tr && tr.dataset.code) this.onPick(tr.dataset.code, tr.dataset.level, tr.dataset.name);
    });
  }

  show(coverage) {
    this.rows = childRows(coverage);
    this.render();
  }

  _value(row, key) {
    if (key === "name") return row.name;
    if (key === "households-units") return row.figures.households?.units ?? -1;
    return row.figures[key]?.rate ?? -1;
  }

  sorted() {
    const { key, dir } = this.sort;
    return [...this.rows].sort((a, b) => {
      const x = this._value(a, key);
      const y = this._value(b, key);
      return (typeof x === "string" ? x.localeCompare(y, "zh-CN") : x - y) * dir;
    });
  }

  render() {
    const heads = [["name", "区域 / area"], ["households-units", "住户 / households"],
      ...TABLE_METRICS.map((m) => [m, SHORT[m]])];
    this.table.tHead.innerHTML = `<tr>${heads
      .map(([key, label]) => {
        const sort = this.sort.key === key ? (this.sort.dir > 0 ? "ascending" : "descending") : "none";
        return `<th data-key="${key}" aria-sort="${sort}" title="点击排序 / click to sort">${label}</th>`;
      })
      .join("")}</tr>`;
    const body = this.sorted().map((r) => {
      const cells = TABLE_METRICS.map((m) => {
        const f = r.figures[m];
        const title = f ? `${f.covered}/${f.units}` : "";
        return `<td class="num ${grade(f?.rate)}" data-metric="${m}" title="${title}">${pct(f?.rate)}</td>`;
      });
      const units = r.figures.households?.units;
      return `<tr data-code="${esc(r.code ?? "")}" data-level="${esc(r.level)}" data-name="${esc(r.name)}"><td>${
        esc(r.name)}</td><td class="num">${units == null ? "—" : units.toLocaleString()}</td>${cells.join("")}</tr>`;
    });
    this.table.tBodies[0].innerHTML = body.length
      ? body.join("")
      : `<tr><td colspan="${heads.length}" class="hint">没有下级区域 / no child areas</td></tr>`;
    this.drawChart();
  }

  /** Horizontal bars of the chosen metric's rate, one per child, in the table's order. */
  drawChart() {
    const metric = this.select.value;
    const rows = this.sorted();
    const svg = this.chart;
    const width = svg.clientWidth || 400;
    const barH = 16;
    const labelW = 110;
    const height = Math.max(40, rows.length * (barH + 4) + 24);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.style.height = `${height}px`;
    const scale = (width - labelW - 56) / 1;
    const bars = rows.map((r, i) => {
      const f = r.figures[metric];
      const rate = f?.rate;
      const y = 18 + i * (barH + 4);
      const w = rate == null ? 0 : Math.max(1, rate * scale);
      const colour = rate == null ? "#c9cdd4" : rate < 0.85 ? "#c62828" : rate < 0.95 ? "#ef6c00" : "#2e7d32";
      return `<g class="bar" data-code="${esc(r.code ?? "")}"><text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${
        esc(r.name)}</text><rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colour}"><title>${
        esc(r.name)}: ${f ? `${f.covered}/${f.units}` : "—"}</title></rect><text x="${labelW + w + 4}" y="${y + 12}">${
        pct(rate)}</text></g>`;
    });
    const axis = [0, 0.5, 1]
      .map((t) => `<line x1="${labelW + t * scale}" x2="${labelW + t * scale}" y1="12" y2="${height}" stroke="#e5e6eb"/>
        <text x="${labelW + t * scale}" y="10" text-anchor="middle">${t * 100}%</text>`)
      .join("");
    svg.innerHTML = `${axis}${bars.join("")}`;
  }
}
