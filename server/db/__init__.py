"""Storage: table definitions, the engine wrapper and migrations."""
