package broker_test

import (
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/server/broker"
)

var _ = Describe("the topic ACL", func() {
	DescribeTable("lets device c use its own namespace, devices/c/...",
		func(topic string) {
			Expect(broker.Allowed("c", topic, nil)).To(BeTrue())
		},
		Entry("a topic", "devices/c/telemetry"),
		Entry("a deeper topic", "devices/c/a/b/c"),
		Entry("an empty level after the ID", "devices/c/"),
		Entry("its whole subtree", "devices/c/#"),
		Entry("one level of its own", "devices/c/+"),
		Entry("a wildcard below its ID", "devices/c/+/cmd"),
	)

	DescribeTable("keeps device c out of every other device's namespace and off the wildcards over them",
		func(topic string) {
			Expect(broker.Allowed("c", topic, nil)).To(BeFalse())
		},
		Entry("device c.d", "devices/c.d/telemetry"),
		Entry("device c-d", "devices/c-d/telemetry"),
		Entry("device c_d", "devices/c_d/telemetry"),
		Entry("device c:d", "devices/c:d/telemetry"),
		Entry("device cd", "devices/cd/telemetry"),
		Entry("device c.d's subtree", "devices/c.d/#"),
		Entry("its namespace's own level, no level below", "devices/c"),
		Entry("every device's commands", "devices/+/cmd"),
		Entry("every device", "devices/#"),
		Entry("everything", "#"),
		Entry("a wildcard first level", "+/c/telemetry"),
		Entry("an empty device level", "devices//c/telemetry"),
		Entry("a leading separator", "/devices/c/telemetry"),
		Entry("another case", "Devices/c/telemetry"),
		Entry("a shared subscription", "$share/g/devices/c/telemetry"),
		Entry("$SYS", "$SYS/broker/clients"),
	)

	DescribeTable("gives an ID outside the device ID rule no namespace at all",
		func(id, topic string) {
			Expect(broker.Allowed(id, topic, nil)).To(BeFalse())
		},
		Entry("'+' on every device", "+", "devices/+/#"),
		Entry("'+' on a device", "+", "devices/c/x"),
		Entry("'#'", "#", "devices/#/x"),
		Entry("'c/d' on device c", "c/d", "devices/c/d/x"),
		Entry("empty", "", "devices//x"),
	)

	DescribeTable("lets grants through level by level",
		func(topic string, grants []string, allowed bool) {
			Expect(broker.Allowed("c", topic, grants)).To(Equal(allowed))
		},
		Entry("a granted topic", "fleet/42/status", []string{"fleet/+/status"}, true),
		Entry("the granted filter itself", "fleet/+/status", []string{"fleet/+/status"}, true),
		Entry("a wider filter than granted", "fleet/#", []string{"fleet/+/status"}, false),
		Entry("one level too deep", "fleet/42/status/x", []string{"fleet/+/status"}, false),
		Entry("under a granted subtree", "shared/a/b", []string{"shared/#"}, true),
	)
})

// FuzzAllowed: whatever the topic, what a valid device ID is allowed
// without grants has "devices" and the ID itself as its first two levels
// and a level after them, so it is no topic or filter of any other device.
func FuzzAllowed(f *testing.F) {
	f.Add("c", "devices/c/x")
	f.Add("c", "devices/c.d/x")
	f.Add("c", "devices/+/#")
	f.Fuzz(func(t *testing.T, id, topic string) {
		if !broker.Allowed(id, topic, nil) {
			return
		}
		if !handshake.ValidDeviceID(id) {
			t.Fatalf("invalid ID %q allowed %q", id, topic)
		}
		levels := strings.Split(topic, "/")
		if len(levels) < 3 || levels[0] != "devices" || levels[1] != id {
			t.Fatalf("%q allowed %q", id, topic)
		}
	})
}
