// Shared by both IDEs: the example query shown first (or the one given as ?query=...).
window.GRASSROOTS_EXAMPLE = [
  "# 基层党建组织网络图谱 GraphQL —— 右侧 Docs 有每个字段的中英文说明",
  "# Grassroots party-organization graph. Every type and field is documented (Docs).",
  "# 1. 看有哪些市 / list the cities; 2. 把市的编码填入 coverage 的 scope / put a code into scope:",
  "{",
  "  cities { code name districts { code name } }",
  "}",
  "",
  "# query Coverage {",
  "#   coverage(scope: \"420600000000\") {",
  "#     scope { area { name } figures { metric units covered rate gapKind } }",
  "#     children { area { code name } figure(metric: households) { rate } }",
  "#   }",
  "# }",
  "",
].join("\n");
window.GRASSROOTS_QUERY = new URLSearchParams(window.location.search).get("query") || window.GRASSROOTS_EXAMPLE;
