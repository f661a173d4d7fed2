package registry

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("DSN", func() {
	DescribeTable("chooses the backend",
		func(dsn string, kind backendKind, target string) {
			k, t, err := parseDSN(dsn)
			Expect(err).NotTo(HaveOccurred())
			Expect(k).To(Equal(kind))
			Expect(t).To(Equal(target))
		},
		Entry("sqlite: and a relative path", "sqlite:data/reg.db", kindSQLite, "data/reg.db"),
		Entry("sqlite: and an absolute path", "sqlite:/srv/reg.db", kindSQLite, "/srv/reg.db"),
		Entry("sqlite:// and a relative path", "sqlite://reg.db", kindSQLite, "reg.db"),
		Entry("sqlite:/// and an absolute path", "sqlite:///srv/reg.db", kindSQLite, "/srv/reg.db"),
		Entry("a bare relative path", "reg.db", kindSQLite, "reg.db"),
		Entry("a bare path with a colon after a dot", "./a:b.db", kindSQLite, "./a:b.db"),
		Entry("postgres://", "postgres://u@h:5432/db?sslmode=disable", kindPostgres, "postgres://u@h:5432/db?sslmode=disable"),
		Entry("postgresql://", "postgresql://u@h/db", kindPostgres, "postgresql://u@h/db"),
	)

	DescribeTable("refuses a DSN without repeating it",
		func(dsn string) {
			_, _, err := parseDSN(dsn)
			Expect(err).To(MatchError(errDSN))
			_, err = Open(context.Background(), dsn)
			Expect(err).To(MatchError(errDSN))
		},
		Entry("empty", ""),
		Entry("sqlite: alone", "sqlite:"),
		Entry("in-memory SQLite", "sqlite::memory:"),
		Entry("a bare :memory:", ":memory:"),
		Entry("query parameters", "sqlite:reg.db?_journal_mode=DELETE"),
		Entry("a file: URI", "sqlite:file:reg.db"),
		Entry("a NUL byte", "reg\x00.db"),
		Entry("another scheme", "mysql://root:secret@h/db"),
		Entry("a scheme-like prefix", "secret:reg.db"),
	)

	It("refuses a PostgreSQL DSN asking for synchronous_commit=off", func() {
		_, err := Open(context.Background(), "postgres://u:secret@127.0.0.1:1/db?synchronous_commit=off")
		Expect(err).To(MatchError(ErrInvalid))
		Expect(err.Error()).NotTo(ContainSubstring("secret"))
	})
})

var _ = DescribeTable("MQTT topic filters of grants (MQTT 3.1.1 §4.7)",
	func(f string, ok bool) {
		Expect(validTopicFilter(f)).To(Equal(ok))
	},
	Entry("plain", "fleet/a/cmd", true),
	Entry("'+' levels", "fleet/+/cmd/+", true),
	Entry("'#' alone", "#", true),
	Entry("'#' last", "fleet/#", true),
	Entry("leading '/'", "/fleet", true),
	Entry("empty level", "fleet//cmd", true),
	Entry("empty", "", false),
	Entry("'#' not last", "fleet/#/cmd", false),
	Entry("'#' inside a level", "fleet/a#", false),
	Entry("'+' inside a level", "fleet/a+/cmd", false),
	Entry("U+0000", "fleet/\x00", false),
	Entry("invalid UTF-8", "fleet/\xff", false),
	Entry("too long", strings.Repeat("a", MaxGrantLen+1), false),
)
