"""What every other package stands on, importing nothing of the project's: the entity model, area levels and
codes, identifier checks, personal-data masking, roles and their grants, error codes."""
