// Runs graphql-http's server audits (the GraphQL-over-HTTP spec's MUST/SHOULD/MAY checks) against a URL
// and prints one JSON array: [{id, name, status: "ok" | "warn" | "error", reason}]. Used by tests/test_http_spec.py.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}
// Signed in as the caller whose bearer token is in GRASSROOTS_TOKEN (every request carries it).
const token = process.env.GRASSROOTS_TOKEN;
const signedIn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = [];
for (const audit of serverAudits({ url, fetchFn: signedIn })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
