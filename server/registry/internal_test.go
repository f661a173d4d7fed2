package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
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

var _ = Describe("password hashes", func() {
	password := []byte("correct horse battery staple")

	It("hashes with argon2id in the PHC string format and verifies", func() {
		h, err := HashPassword(password)
		Expect(err).NotTo(HaveOccurred())
		Expect(h).To(HavePrefix(fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", argonMemory, argonTime, argonThreads)))
		Expect(VerifyPassword(h, password)).To(BeTrue())
		Expect(VerifyPassword(h, []byte("correct horse battery stapl"))).To(BeFalse())
		other, err := HashPassword(password)
		Expect(err).NotTo(HaveOccurred())
		Expect(other).NotTo(Equal(h), "a fresh salt every time")
		_, err = HashPassword(nil)
		Expect(err).To(MatchError(ErrInvalid))
	})

	It("reads the parameters, salt and tag of a stored hash", func() {
		// A hash with parameters unlike HashPassword's, the tag computed here.
		salt := []byte("sixteen byte slt")
		tag := argon2.IDKey(password, salt, 3, 64, 2, 20)
		b64 := base64.RawStdEncoding
		h := "$argon2id$v=19$m=64,t=3,p=2$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(tag)
		Expect(VerifyPassword(h, password)).To(BeTrue())
		// Swapping m and t must break it.
		swapped := strings.Replace(h, "m=64,t=3", "m=3,t=64", 1)
		_, err := VerifyPassword(swapped, password)
		Expect(err).To(MatchError(errHash), "m=3 is below 8*p")
		swapped = strings.Replace(h, "t=3,p=2", "t=2,p=3", 1)
		Expect(VerifyPassword(swapped, password)).To(BeFalse())
	})

	It("verifies bcrypt hashes", func() {
		h, err := bcrypt.GenerateFromPassword(password, bcrypt.MinCost)
		Expect(err).NotTo(HaveOccurred())
		Expect(VerifyPassword(string(h), password)).To(BeTrue())
		Expect(VerifyPassword(string(h), []byte("nope"))).To(BeFalse())
	})

	DescribeTable("refuses a malformed hash without repeating it",
		func(h string) {
			ok, err := VerifyPassword(h, password)
			Expect(ok).To(BeFalse())
			Expect(err).To(MatchError(errHash))
		},
		Entry("plaintext", "hunter2"),
		Entry("argon2i", "$argon2i$v=19$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("version 16", "$argon2id$v=16$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("memory over the bound", "$argon2id$v=19$m=4194304,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("zero passes", "$argon2id$v=19$m=64,t=0,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("a leading zero", "$argon2id$v=19$m=064,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("parameters out of order", "$argon2id$v=19$t=3,m=64,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("a 4-byte salt", "$argon2id$v=19$m=64,t=3,p=2$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("padded base64", "$argon2id$v=19$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("a short tag", "$argon2id$v=19$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAA"),
		Entry("a short bcrypt hash", "$2b$04$abc"),
		Entry("bcrypt version 2x", "$2x$04$"+strings.Repeat("a", 53)),
	)
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
