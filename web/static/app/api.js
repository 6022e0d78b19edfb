// The page talks to the public GraphQL API only (POST /graphql on this server), like any front-end team.

/** A GraphQL error, its message as the API gave it (Chinese first, English beside it). */
export class ApiError extends Error {}

/** The session's anti-forgery value (the readable grassroots_csrf cookie), sent with every POST. */
export function csrfToken() {
  const found = document.cookie.match(/(?:^|;\s*)grassroots_csrf=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : "";
}

/** The sign-in form, coming back to `next` (a path on this site) afterwards. */
export function toSignIn(next = "") {
  window.location.assign(next && next !== "/" ? `/login?next=${encodeURIComponent(next)}` : "/login");
}

/** Sign out (POST /logout with the anti-forgery value: the cookies are cleared), then show the sign-in form.
 *  The answer, or why there was none; the form is shown either way. */
export async function signOut() {
  let response;
  try {
    response = await fetch("/logout", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
      body: "{}",
    });
  } catch (err) {
    response = { ok: false, error: err };
  }
  toSignIn();
  return response;
}

/** Run a query; its data, or an ApiError. A lapsed session goes back to the sign-in form. */
export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        "x-csrf-token": csrfToken(),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`无法连接服务 / cannot reach the service: ${err.message}`);
  }
  if (response.status === 401) {
    toSignIn(window.location.pathname + window.location.search);
    throw new ApiError("请重新登录 / sign in again");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`服务返回 ${response.status} / the service answered ${response.status}`);
  }
  if (body.errors && body.errors.length) {
    throw new ApiError(body.errors.map((e) => e.message).join(";"));
  }
  return body.data;
}

export const AREA_TREE = `{
  me { login name role roleName scope { code name } canWrite canReadAuditLog canDownloadAudits seesPersonalData }
  cities { code name districts { code name streets { code name communities { code name } } } }
  gapKinds: __type(name: "GapKind") { enumValues { name description } }
  metrics: __type(name: "CoverageMetric") { enumValues { name description } }
}`;

export const GRIDS = `query($code: String!) { community(code: $code) { code grids { code name } } }`;

export const SEARCH = `query($name: String!) {
  search(name: $name, first: 20) {
    totalCount edges { node { code type typeName label } }
  }
}`;

export const NETWORK = `query($root: String!, $depth: Int!, $max: Int!, $households: Boolean!, $asOf: Date,
    $types: [EntityType!], $levels: [LevelOfDetail!]) {
  network(root: $root, depth: $depth, maxNodes: $max, households: $households, asOf: $asOf, types: $types,
      levelsOfDetail: $levels) {
    root truncated levelOfDetail
    nodes { id code type typeName label level depth gaps households householdsWithoutCentral
      hidden { type typeName count gaps level } }
    edges { id source target type }
  }
}`;

export const COVERAGE = `query($scope: String!, $asOf: Date) {
  coverage(scope: $scope, asOf: $asOf) {
    asOf
    scope { level area { code name } figures { metric description units covered uncovered rate gapKind } }
    children { level area { code name } figures { metric units covered uncovered rate gapKind } }
  }
}`;

/** The scope's figures at the end of each of the twelve months up to the as-of day (the trend lines). */
export const HISTORY = `query($scope: String!, $to: Date) {
  coverageHistory(scope: $scope, to: $to, every: MONTH) { points { asOf figures { metric units covered rate } } }
}`;

export const CHAIN = `query($code: String!, $scope: String) {
  responsibilityChain(code: $code, scope: $scope) {
    complete
    subject { type typeName code name }
    street { code name } community { code name } compound { code name }
    links { level levelName broken organization { type typeName code name } head { name role } }
    partnerUnits { code name kind reportedOn committeeMember services hours }
  }
}`;

export const NODE = `query($id: ID!) {
  node(id: $id) { id ... on Entity { code type typeName label } }
}`;
