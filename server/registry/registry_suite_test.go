package registry_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"go.uber.org/goleak"
)

func TestRegistry(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Registry Suite")
}

// crashtestBin is the crash-test helper program, built once per run.
var crashtestBin string

var leakBaseline goleak.Option

var _ = BeforeSuite(func() {
	leakBaseline = goleak.IgnoreCurrent()
	var err error
	crashtestBin, err = gexec.Build("shakedown/server/registry/internal/crashtest")
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	gexec.CleanupBuildArtifacts()
	// Every Registry of the suite was closed: none of their goroutines
	// (group commit, last-seen writer, pools) may outlive it.
	Expect(goleak.Find(leakBaseline)).To(Succeed())
})

// Both backends run the same specs. PostgreSQL needs a server: without
// SHAKEDOWN_PG_DSN its specs are skipped, or fail when SHAKEDOWN_REQUIRE_PG=1,
// so that CI cannot pass without running them.
var _ = Describe("SQLite registry", func() {
	itBehavesLikeARegistry(sqliteBackend)
})

var _ = Describe("PostgreSQL registry", Label("postgres"), func() {
	BeforeEach(func() {
		if os.Getenv(envPGDSN) != "" {
			return
		}
		if os.Getenv(envRequirePG) == "1" {
			Fail(envRequirePG + "=1 but " + envPGDSN + " is empty. " + pgHowTo)
		}
		Skip(pgHowTo)
	})
	itBehavesLikeARegistry(postgresBackend)
})
