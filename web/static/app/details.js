// A clicked node: what it is, the gaps it breaks, and who answers for it (the responsibility chain).
import { CHAIN, COVERAGE, NODE, gql } from "./api.js";
import { pct } from "./dashboard.js";
import { esc } from "./tree.js";

const CHAIN_TYPES = new Set(["Household", "Building", "Compound"]);
const AREA_TYPES = new Set(["Street", "Community", "Grid"]);

function orgLine(org) {
  return org ? `${esc(org.name ?? org.code)} <span class="hint">${esc(org.code)}</span>` : "";
}

export function renderChain(chain) {
  const links = chain.links
    .map(
      (l) => `<li class="${l.broken ? "broken" : ""}" data-level="${l.level}"><div>${esc(l.levelName)}</div><div>${
        l.broken ? "缺失 / missing" : orgLine(l.organization)}${
        l.head ? ` · ${esc(l.head.role ?? "")} ${esc(l.head.name ?? "")}` : ""}</div></li>`,
    )
    .join("");
  const where = [chain.street, chain.community, chain.compound].filter((p) => p && p.name).map((p) => esc(p.name));
  const units = chain.partnerUnits
    .map((u) => `<li>${esc(u.name)} <span class="hint">${esc(u.kind ?? "")}${
      u.reportedOn ? ` · 报到 ${esc(u.reportedOn)}` : " · 未报到"} · 服务 ${u.services} 次</span></li>`)
    .join("");
  return `<h2>责任链 / Responsibility chain</h2>
    <p>${where.join(" › ")}</p>
    <p class="${chain.complete ? "chain-ok" : "chain-broken"}" id="chain-state">${
      chain.complete ? "责任链完整 / complete" : "责任链断裂 / broken"}</p>
    <ol class="chain" id="chain">${links}</ol>
    ${units ? `<h2>共建单位 / Partner units</h2><ul class="units">${units}</ul>` : ""}`;
}

export class Details {
  constructor(el, gapNames, { onExpand, onMore = () => {}, onFold = () => {}, onOpen, onChain = () => {}, scope }) {
    this.el = el;
    this.gapNames = gapNames;
    this.onExpand = onExpand;
    this.onMore = onMore;
    this.onFold = onFold;
    this.onOpen = onOpen;
    this.onChain = onChain;
    this.scope = scope;
    this.token = 0;
    el.addEventListener("click", (evt) => {
      const button = evt.target.closest("button[data-action]");
      if (!button || !this.node) return;
      if (button.dataset.action === "expand") this.onExpand(this.node);
      if (button.dataset.action === "open") this.onOpen(this.node);
      if (button.dataset.action === "more") this.onMore(this.node);
      if (button.dataset.action === "fold") this.onFold(this.node);
      if (button.dataset.action === "chain" && this.chain) this.onChain(this.chain);
    });
  }

  async show(node) {
    this.node = node;
    this.chain = null;
    const token = ++this.token;
    const gaps = (node.gaps || [])
      .map((k) => `<li data-gap="${k}">${esc(this.gapNames[k] ?? k)}</li>`)
      .join("");
    const counts = node.households != null
      ? `<dt>住户 / households</dt><dd>${node.households}${
        node.householdsWithoutCentral != null ? `(未联系中心户 ${node.householdsWithoutCentral})` : ""}</dd>`
      : "";
    const isArea = AREA_TYPES.has(node.type);
    const held = (node.more ?? [])
      .map((m) => `<li>${esc(m.typeName)} ${m.count}${m.gaps ? `<span class="chain-broken">(空白 ${m.gaps})</span>` : ""}</li>`)
      .join("");
    const actions = [
      held ? `<button type="button" data-action="more">展开未绘出的下级 / Open what it holds</button>` : "",
      node.opened ? `<button type="button" data-action="fold">收起 / Fold what it opened</button>` : "",
      node.collapsed ? "" : `<button type="button" data-action="expand">展开邻居 / Expand neighbours</button>`,
      isArea ? `<button type="button" data-action="open">设为范围 / Open as scope</button>` : "",
    ].join("");
    this.el.innerHTML = `<dl class="node" data-code="${esc(node.code)}">
        <dt>类型 / type</dt><dd>${esc(node.typeName ?? node.type)}</dd>
        <dt>名称 / name</dt><dd id="node-label">${esc(node.label)}</dd>
        <dt>编码 / code</dt><dd>${esc(node.code)}</dd>
        ${counts}
      </dl>
      ${gaps ? `<h2>空白点 / Gaps</h2><ul class="gap-list">${gaps}</ul>` : ""}
      ${held ? `<h2>未绘出 / Not drawn yet</h2><ul class="held">${held}</ul>` : ""}
      <div class="actions">${actions}</div>
      <div id="details-more"><p class="hint">加载中… / loading…</p></div>`;
    const more = this.el.querySelector("#details-more");
    try {
      let html = "";
      if (CHAIN_TYPES.has(node.type)) {
        const data = await gql(CHAIN, { code: node.code, scope: this.scope() });
        this.chain = data.responsibilityChain;
        html = renderChain(data.responsibilityChain) +
          `<div class="actions"><button type="button" data-action="chain">在图中显示责任链 / Show the chain on the picture</button></div>`;
      } else if (isArea) {
        const data = await gql(COVERAGE, { scope: node.code });
        html = `<h2>覆盖率 / Coverage</h2><table class="figures">${data.coverage.scope.figures
          .filter((f) => f.units > 0)
          .map((f) => `<tr><td>${esc(f.description.split(" / ")[0])}</td><td class="num">${f.covered}/${f.units}</td>
            <td class="num">${pct(f.rate)}</td></tr>`)
          .join("")}</table>`;
      } else if (node.id && !String(node.id).startsWith("area:")) {
        const data = await gql(NODE, { id: node.id });
        html = data.node
          ? `<p class="hint">全局ID / ID ${esc(data.node.id)} · ${esc(data.node.typeName)}</p>`
          : `<p class="hint">找不到 / not found</p>`;
      }
      if (token === this.token) more.innerHTML = html;
    } catch (err) {
      if (token === this.token) more.innerHTML = `<p class="chain-broken">${esc(err.message)}</p>`;
    }
  }

  clear() {
    this.node = null;
    this.el.innerHTML = `<p class="hint">点击图中的节点 / click a node in the drawing</p>`;
  }
}
