"""The GraphQL API: types, queries and mutations per aggregate, merged into one schema."""
