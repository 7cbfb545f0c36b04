"""Entry points: the Typer CLI (and, later, the GraphQL API)."""
