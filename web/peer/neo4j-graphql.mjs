// The benchmark's peer: the same graph served by @neo4j/graphql (Neo4j's own GraphQL library) on graphql-yoga.
// Type definitions cover what the benchmark asks: the street → community → grid → branch → group chain and
// the counts behind four coverage figures. Env: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, PORT.
import { createServer } from "node:http";
import { Neo4jGraphQL } from "@neo4j/graphql";
import { createYoga } from "graphql-yoga";
import neo4j from "neo4j-driver";

const typeDefs = /* GraphQL */ `
  type Street @node {
    code: String!
    name: String
    communities: [Community!]! @relationship(type: "IN", direction: IN)
  }
  type Community @node {
    code: String!
    name: String
    streetCode: String
    grids: [Grid!]! @relationship(type: "IN", direction: IN)
  }
  type Grid @node {
    code: String!
    name: String
    branches: [GridBranch!]! @relationship(type: "COVERS", direction: IN)
    compounds: [Compound!]! @relationship(type: "COVERS", direction: OUT)
  }
  type GridBranch @node {
    code: String!
    name: String
    groups: [BuildingGroup!]! @relationship(type: "UNDER", direction: IN)
    compounds: [Compound!]! @relationship(type: "COVERS", direction: OUT)
  }
  type BuildingGroup @node {
    code: String!
    name: String
    centralHouseholds: [CentralHousehold!]! @relationship(type: "UNDER", direction: IN)
  }
  type Compound @node {
    code: String!
    name: String
    cityCode: String
    branches: [GridBranch!]! @relationship(type: "COVERS", direction: IN)
    grids: [Grid!]! @relationship(type: "COVERS", direction: IN)
  }
  type Building @node {
    code: String!
    cityCode: String
    groups: [BuildingGroup!]! @relationship(type: "COVERS", direction: IN)
  }
  type Household @node {
    code: String!
    cityCode: String
    contactedBy: [CentralHousehold!]! @relationship(type: "CONTACTS", direction: IN)
    centralHere: [CentralHousehold!]! @relationship(type: "AT", direction: IN)
  }
  type CentralHousehold @node {
    code: String!
    name: String
  }
`;

const driver = neo4j.driver(
  process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic(process.env.NEO4J_USER ?? "neo4j", process.env.NEO4J_PASSWORD ?? "grassroots-local"),
);
const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
const yoga = createYoga({ schema, graphiql: false, logging: "warn" });
const port = Number(process.env.PORT ?? 4000);
createServer(yoga).listen(port, "127.0.0.1", () => console.log(`READY http://127.0.0.1:${port}/graphql`));
