// Copies the browser assets the service serves from npm packages into static/vendor/ (committed),
// so GraphiQL, GraphQL Playground and the network page (Cytoscape.js with its dagre layout) work on an
// intranet with no CDN. Run: npm ci && npm run vendor
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const here = dirname(new URL(import.meta.url).pathname);
const out = join(here, "static", "vendor");
const files = [
  ["react", "umd/react.production.min.js", "react/react.production.min.js"],
  ["react", "LICENSE", "react/LICENSE"],
  ["react-dom", "umd/react-dom.production.min.js", "react/react-dom.production.min.js"],
  ["react-dom", "LICENSE", "react/LICENSE.react-dom"],
  ["graphiql", "graphiql.min.js", "graphiql/graphiql.min.js"],
  ["graphiql", "graphiql.min.css", "graphiql/graphiql.min.css"],
  ["graphiql", "LICENSE", "graphiql/LICENSE"],
  ["graphql-playground-react", "build/static/js/middleware.js", "playground/middleware.js"],
  ["graphql-playground-react", "build/static/css/index.css", "playground/index.css"],
  ["graphql-playground-react", "build/favicon.png", "playground/favicon.png"],
  ["graphql-playground-react", "LICENSE", "playground/LICENSE"],
  ["cytoscape", "dist/cytoscape.min.js", "cytoscape/cytoscape.min.js"],
  ["cytoscape", "LICENSE", "cytoscape/LICENSE"],
  // cytoscape-dagre's UMD build bundles @dagrejs/dagre and @dagrejs/graphlib (MIT, see LICENSE.dagre).
  ["cytoscape-dagre", "dist/cytoscape-dagre.min.js", "cytoscape/cytoscape-dagre.min.js"],
  ["cytoscape-dagre", "LICENSE", "cytoscape/LICENSE.cytoscape-dagre"],
];
const versions = [];
for (const [pkg, from, to] of files) {
  const src = join(here, "node_modules", pkg, from);
  const dst = join(out, to);
  mkdirSync(dirname(dst), { recursive: true });
  if (from.endsWith(".js") || from.endsWith(".css")) {
    // Drop source-map comments: the maps are not vendored, and a browser must not ask for them.
    const text = readFileSync(src, "utf8").replace(/\/[*/]# sourceMappingURL=.*$/gm, "");
    writeFileSync(dst, text);
  } else {
    copyFileSync(src, dst);
  }
  const version = JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8")).version;
  versions.push(`${to}\t${pkg}@${version}/${from}`);
}
writeFileSync(join(out, "VERSIONS.txt"), versions.join("\n") + "\n");
console.log(`vendored ${files.length} files into ${out}`);
