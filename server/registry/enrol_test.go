package registry_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/server/credential"
	"shakedown/server/registry"
)

var _ = Describe("Enrol", func() {
	var (
		ctx  context.Context
		reg  registry.Registry
		recs []handshake.DeviceRecord
		pws  map[string]string
		key  registry.Keypair
	)

	BeforeEach(func() {
		ctx = context.Background()
		reg = openReg(GinkgoT(), sqliteBackend.fresh(GinkgoT()))
		tls := tlsDevice()
		recs = nil
		for _, d := range []registry.Device{noiseDevice(), pskDevice(), seedP256Device(), tls} {
			recs = append(recs, handshake.DeviceRecord{ID: d.ID, Profile: d.Profile, Curve: d.Curve, Key: d.Key})
		}
		pws = map[string]string{tls.ID: "a machine password of enough length"}
		key = noiseKeypair()
	})

	It("registers the missing devices and sets the server key when there is none", func() {
		e, err := registry.Enrol(ctx, reg, recs, pws, key)
		Expect(err).NotTo(HaveOccurred())
		Expect(e).To(Equal(registry.Enrolment{Added: len(recs), KeySet: true}))
		for _, r := range recs {
			d, err := reg.Device(ctx, r.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Profile).To(Equal(r.Profile))
			Expect(d.Key).To(Equal(r.Key))
			Expect(d.State).To(Equal(registry.Active))
		}
		keys, err := reg.ServerKeys(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(keys.Current).NotTo(BeNil())
		Expect(keys.Current.Public).To(Equal(key.Public))
	})

	It("stores a tls device's machine password as its keyed hash", func() {
		_, err := registry.Enrol(ctx, reg, recs, pws, key)
		Expect(err).NotTo(HaveOccurred())
		pwKey, err := reg.PasswordKey(ctx)
		Expect(err).NotTo(HaveOccurred())
		tls := recs[len(recs)-1]
		want, err := credential.HashMachine(pwKey, tls.ID, []byte(pws[tls.ID]))
		Expect(err).NotTo(HaveOccurred())
		d, err := reg.Device(ctx, tls.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.PasswordHash).To(Equal(want))
	})

	It("leaves what the registry holds as it is: devices and their counters, and the server key", func() {
		_, err := registry.Enrol(ctx, reg, recs[:2], pws, key)
		Expect(err).NotTo(HaveOccurred())
		Expect(reg.AcceptCounter(ctx, recs[0].ID, 7)).To(Succeed())

		e, err := registry.Enrol(ctx, reg, recs, pws, noiseKeypair())
		Expect(err).NotTo(HaveOccurred())
		Expect(e).To(Equal(registry.Enrolment{Added: len(recs) - 2, Present: 2}))
		d, err := reg.Device(ctx, recs[0].ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Counter).To(BeEquivalentTo(7))
		keys, err := reg.ServerKeys(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(keys.Current.Public).To(Equal(key.Public))
	})

	It("names the device a registry refuses, and stops there", func() {
		bad := append([]handshake.DeviceRecord{recs[0]}, handshake.DeviceRecord{ID: "bad id with spaces", Profile: handshake.Noise, Key: recs[0].Key})
		_, err := registry.Enrol(ctx, reg, bad, nil, key)
		Expect(err).To(MatchError(ContainSubstring("registry: registering")))
		_, err = reg.ServerKeys(ctx)
		Expect(err).To(MatchError(registry.ErrNoServerKey))
	})
})
