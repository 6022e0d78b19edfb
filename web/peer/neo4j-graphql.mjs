// The benchmark's peer: the same graph served by @neo4j/graphql (Neo4j's own GraphQL library) on graphql-yoga.
// Type definitions cover what the benchmarks ask: the street → community → grid → branch → group chain, a
// building's households, look-ups and searches by code and name, and the counts behind four coverage figures.
// Env: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, PORT; PEER_JWT_KEY (optional): authorization on — every area-bound
// type gets the library's own @authorization filter, the street-viewer rule: only nodes whose streetCode is the
// `streetCode` claim of the request's JWT (`Authorization: Bearer`, HS256 with this key) are read.
import { createServer } from "node:http";
import { Neo4jGraphQL } from "@neo4j/graphql";
import { createYoga } from "graphql-yoga";
import neo4j from "neo4j-driver";

const key = process.env.PEER_JWT_KEY;
// Directive syntax of @neo4j/graphql 7 (web/package.json pins 7.6.3): a filtering rule's `where` is the
// type's own filter input, with explicit operators; "$jwt.<claim>" is replaced by the verified claim.
const scoped = key ? ` @authorization(filter: [{ where: { node: { streetCode: { eq: "$jwt.streetCode" } } } }])` : "";

const typeDefs = /* GraphQL */ `
  type Street @node${scoped} {
    code: String!
    name: String
    streetCode: String
    communities: [Community!]! @relationship(type: "IN", direction: IN)
  }
  type Community @node${scoped} {
    code: String!
    name: String
    streetCode: String
    grids: [Grid!]! @relationship(type: "IN", direction: IN)
  }
  type Grid @node${scoped} {
    code: String!
    name: String
    streetCode: String
    branches: [GridBranch!]! @relationship(type: "COVERS", direction: IN)
    compounds: [Compound!]! @relationship(type: "COVERS", direction: OUT)
  }
  type GridBranch @node${scoped} {
    code: String!
    name: String
    streetCode: String
    groups: [BuildingGroup!]! @relationship(type: "UNDER", direction: IN)
    compounds: [Compound!]! @relationship(type: "COVERS", direction: OUT)
  }
  type BuildingGroup @node${scoped} {
    code: String!
    name: String
    streetCode: String
    centralHouseholds: [CentralHousehold!]! @relationship(type: "UNDER", direction: IN)
  }
  type Compound @node${scoped} {
    code: String!
    name: String
    cityCode: String
    streetCode: String
    branches: [GridBranch!]! @relationship(type: "COVERS", direction: IN)
    grids: [Grid!]! @relationship(type: "COVERS", direction: IN)
  }
  type Building @node${scoped} {
    code: String!
    name: String
    cityCode: String
    streetCode: String
    groups: [BuildingGroup!]! @relationship(type: "COVERS", direction: IN)
    households: [Household!]! @relationship(type: "IN", direction: IN)
  }
  type Household @node${scoped} {
    code: String!
    room: String
    cityCode: String
    streetCode: String
    contactedBy: [CentralHousehold!]! @relationship(type: "CONTACTS", direction: IN)
    centralHere: [CentralHousehold!]! @relationship(type: "AT", direction: IN)
  }
  type CentralHousehold @node${scoped} {
    code: String!
    name: String
    streetCode: String
  }
`;

const driver = neo4j.driver(
  process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic(process.env.NEO4J_USER ?? "neo4j", process.env.NEO4J_PASSWORD ?? "grassroots-local"),
);
const features = key ? { authorization: { key } } : {};
const schema = await new Neo4jGraphQL({ typeDefs, driver, features }).getSchema();
// The library reads the encoded JWT from the context's `token` (and verifies it only when authorization is on).
const context = ({ request }) => ({ token: request.headers.get("authorization") ?? undefined });
const yoga = createYoga({ schema, context, graphiql: false, logging: "warn" });
const port = Number(process.env.PORT ?? 4000);
createServer(yoga).listen(port, "127.0.0.1", () => console.log(`READY http://127.0.0.1:${port}/graphql`));
