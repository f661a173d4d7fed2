package handshake_test

import (
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
)

var _ = Describe("device IDs", func() {
	DescribeTable("accepts letters, digits, '.', '_', '-' and ':', 1 to 128 of them",
		func(id string) {
			Expect(handshake.ValidDeviceID(id)).To(BeTrue())
			Expect(handshake.CheckDeviceID(id)).To(Succeed())
		},
		Entry("a fixture ID", "noise-0001"),
		Entry("one letter", "c"),
		Entry("one digit", "7"),
		Entry("dots", "c.d"),
		Entry("a MAC address", "a4:cf:12:0b:9e:01"),
		Entry("underscores and capitals", "Sensor_B"),
		Entry("only punctuation of the set", ".-_:"),
		Entry("128 characters", strings.Repeat("x", 128)),
	)

	DescribeTable("refuses anything else, with an error that does not quote the ID",
		func(id string) {
			Expect(handshake.ValidDeviceID(id)).To(BeFalse())
			err := handshake.CheckDeviceID(id)
			Expect(err).To(MatchError(handshake.ErrDeviceID))
			if id != "" {
				Expect(err.Error()).NotTo(ContainSubstring(id))
			}
		},
		Entry("empty", ""),
		Entry("129 characters", strings.Repeat("x", 129)),
		Entry("the single-level wildcard", "+"),
		Entry("the multi-level wildcard", "#"),
		Entry("a level separator", "a/b"),
		Entry("a wildcard inside", "x+y"),
		Entry("a trailing separator", "c/"),
		Entry("a $SYS-like ID", "$SYS"),
		Entry("a space", "dev 1"),
		Entry("a NUL byte", "dev\x001"),
		Entry("a newline", "dev\n1"),
		Entry("non-ASCII letters", "gerät"),
		Entry("a quote", `dev"1`),
	)
})

// FuzzValidDeviceID: an accepted ID is one MQTT topic level without
// wildcards, of the allowed bytes only, and CheckDeviceID agrees.
func FuzzValidDeviceID(f *testing.F) {
	f.Add("noise-0001")
	f.Add("a/b")
	f.Add("+")
	f.Fuzz(func(t *testing.T, id string) {
		ok := handshake.ValidDeviceID(id)
		if ok != (handshake.CheckDeviceID(id) == nil) {
			t.Fatalf("ValidDeviceID and CheckDeviceID disagree on %q", id)
		}
		if !ok {
			return
		}
		if len(id) == 0 || len(id) > handshake.MaxDeviceIDLen || strings.ContainsAny(id, "/+#$ \x00") {
			t.Fatalf("accepted %q", id)
		}
		if strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:") != "" {
			t.Fatalf("accepted a byte outside the set in %q", id)
		}
	})
}
