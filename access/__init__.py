"""Who is calling, and what they may do: accounts, passwords, signed tokens (the rules are `core.access`)."""
