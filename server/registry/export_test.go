package registry

// SchemaVersion1ForTest returns the statements of schema version 1 for the
// backend named "SQLite" or "PostgreSQL", so that specs can build a registry
// as an older program left it.
func SchemaVersion1ForTest(backend string) []string {
	if backend == "PostgreSQL" {
		return postgresSchema[0]
	}
	return sqliteSchema[0]
}
