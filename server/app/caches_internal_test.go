package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/server/registry"
)

// readsRegistry counts the reads of single devices by ID (the grants'
// query) that reach a registry.
type readsRegistry struct {
	registry.Registry
	byID int
}

func (r *readsRegistry) Device(ctx context.Context, id string) (registry.Device, error) {
	r.byID++
	return r.Registry.Device(ctx, id)
}

var _ = Describe("reading the registry ahead", func() {
	var (
		reg  *readsRegistry
		ctx  = context.Background()
		logs *bytes.Buffer
		log  *slog.Logger
	)
	noiseKey := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 32) }
	BeforeEach(func() {
		r, err := registry.Open(ctx, "sqlite:"+filepath.Join(GinkgoT().TempDir(), "registry.db"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(r.Close)
		var ds []registry.Device
		for i := 1; i <= 4; i++ {
			ds = append(ds, registry.Device{ID: fmt.Sprintf("n%d", i), Profile: handshake.Noise, Key: noiseKey(i),
				State: registry.Active, Grants: []string{fmt.Sprintf("fleet/n%d/extra", i)}})
		}
		ds = append(ds, registry.Device{ID: "p1", Profile: handshake.PSK, Key: noiseKey(9), State: registry.Active, Grants: []string{"psk/#"}})
		Expect(r.ImportDevices(ctx, ds)).To(Succeed())
		Expect(r.Revoke(ctx, "n4")).To(Succeed())
		reg = &readsRegistry{Registry: r}
		logs = &bytes.Buffer{}
		log = slog.New(slog.NewTextHandler(logs, nil))
	})

	It("keeps every active noise device's key, and every active device's grants, before they connect", func() {
		c := newCaches(100)
		c.warm(ctx, reg, log)
		Expect(c.keys.Len()).To(Equal(3), "the active noise devices, not the revoked one nor the psk one")
		grants := grantsFunc(ctx, reg, nil, c.grants)
		for i := 1; i <= 3; i++ {
			Expect(grants(fmt.Sprintf("n%d", i))).To(Equal([]string{fmt.Sprintf("fleet/n%d/extra", i)}))
		}
		Expect(grants("p1")).To(Equal([]string{"psk/#"}))
		Expect(reg.byID).To(BeZero())
		Expect(logs.String()).To(ContainSubstring("registry read ahead"))
		Expect(logs.String()).To(ContainSubstring("devices=4"))

		By("a revoked record is not kept, and the revoked device's grants are asked of the registry")
		Expect(c.keys.Remember(handshake.DeviceRecord{ID: "n4", Profile: handshake.Noise, Key: noiseKey(4), Revoked: true})).To(BeFalse())
		Expect(grants("n4")).To(Equal([]string{"fleet/n4/extra"}))
		Expect(reg.byID).To(Equal(1))
	})

	It("stops when both caches are full, and never pushes a device out", func() {
		c := newCaches(2)
		Expect(c.keys.Remember(handshake.DeviceRecord{ID: "n3", Profile: handshake.Noise, Key: noiseKey(3)})).To(BeTrue())
		c.warm(ctx, reg, log)
		Expect(c.keys.Len()).To(Equal(2))
		Expect(c.keys.Full()).To(BeTrue())
		Expect(c.grants.Full()).To(BeTrue())
		Expect(logs.String()).To(ContainSubstring("devices=2"), "it read no further than it could keep")
		Expect(c.keys.Remember(handshake.DeviceRecord{ID: "n2", Profile: handshake.Noise, Key: noiseKey(2)})).To(BeFalse())
	})

	It("logs a failed read and leaves the caches to fill as devices connect", func() {
		c := newCaches(100)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		c.warm(cancelled, reg, log)
		Expect(c.keys.Len()).To(BeZero())
		Expect(logs.String()).NotTo(ContainSubstring("registry read ahead"))

		broken := &readsRegistry{Registry: reg.Registry}
		Expect(reg.Registry.Close()).To(Succeed())
		c.warm(ctx, broken, log)
		Expect(logs.String()).To(ContainSubstring("reading the registry ahead"))
		Expect(c.keys.Len()).To(BeZero())
	})
})
