"""Neo4j: settings, the local embedded server, the one async driver and schema migrations."""
