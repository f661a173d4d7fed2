package server

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/handshake/handshaketest"
)

// countingDirectory counts the lookups by key that reach it.
type countingDirectory struct {
	*handshaketest.Directory
	byKey int
}

func (d *countingDirectory) DeviceByKey(ctx context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	d.byKey++
	return d.Directory.DeviceByKey(ctx, p, key)
}

var _ = Describe("the noise key cache", func() {
	var (
		dir   *countingDirectory
		cache cachedDirectory
		ctx   = context.Background()
	)
	key := func(i int) []byte { return []byte(fmt.Sprintf("%032d", i)) }
	BeforeEach(func() {
		dir = &countingDirectory{Directory: handshaketest.NewDirectory(
			handshake.DeviceRecord{ID: "n1", Profile: handshake.Noise, Key: key(1)},
			handshake.DeviceRecord{ID: "n2", Profile: handshake.Noise, Key: key(2)},
			handshake.DeviceRecord{ID: "n3", Profile: handshake.Noise, Key: key(3)},
			handshake.DeviceRecord{ID: "r", Profile: handshake.Noise, Key: key(4), Revoked: true},
			handshake.DeviceRecord{ID: "t", Profile: handshake.TLS, Key: key(5)},
		)}
		cache = cachedDirectory{Directory: dir, cache: NewKeyCache(2)}
	})

	It("answers a noise key found once without the directory", func() {
		for range 3 {
			rec, err := cache.DeviceByKey(ctx, handshake.Noise, key(1))
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.ID).To(Equal("n1"))
		}
		Expect(dir.byKey).To(Equal(1))
	})

	It("keeps neither revoked nor unknown devices, nor other profiles' lookups", func() {
		for range 2 {
			rec, err := cache.DeviceByKey(ctx, handshake.Noise, key(4))
			Expect(err).NotTo(HaveOccurred())
			Expect(handshake.CheckRecord(rec, handshake.Noise)).To(Equal(handshake.ReasonRevoked))
			_, err = cache.DeviceByKey(ctx, handshake.Noise, key(9))
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			_, err = cache.DeviceByKey(ctx, handshake.TLS, key(5))
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(dir.byKey).To(Equal(6))
	})

	It("holds at most its size, and still answers every device", func() {
		for i := range 3 {
			rec, err := cache.DeviceByKey(ctx, handshake.Noise, key(1+i))
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.ID).To(Equal(fmt.Sprintf("n%d", 1+i)))
		}
		Expect(cache.cache.Len()).To(Equal(2))
		for i := range 3 {
			rec, err := cache.DeviceByKey(ctx, handshake.Noise, key(1+i))
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.ID).To(Equal(fmt.Sprintf("n%d", 1+i)))
		}
		Expect(cache.cache.Len()).To(Equal(2))
	})

	It("keeps its own copy of the key", func() {
		k := key(2)
		_, err := cache.DeviceByKey(ctx, handshake.Noise, k)
		Expect(err).NotTo(HaveOccurred())
		k[0] ^= 0xff
		rec, err := cache.DeviceByKey(ctx, handshake.Noise, key(2))
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Key).To(Equal(key(2)))
		Expect(dir.byKey).To(Equal(1))
	})

	It("answers a device remembered ahead without the directory, and remembers only active noise devices while it has room", func() {
		Expect(cache.cache.Remember(handshake.DeviceRecord{ID: "n1", Profile: handshake.Noise, Key: key(1)})).To(BeTrue())
		rec, err := cache.DeviceByKey(ctx, handshake.Noise, key(1))
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.ID).To(Equal("n1"))
		Expect(dir.byKey).To(BeZero())

		Expect(cache.cache.Remember(handshake.DeviceRecord{ID: "r", Profile: handshake.Noise, Key: key(4), Revoked: true})).To(BeFalse())
		Expect(cache.cache.Remember(handshake.DeviceRecord{ID: "t", Profile: handshake.TLS, Key: key(5)})).To(BeFalse())
		Expect(cache.cache.Remember(handshake.DeviceRecord{ID: "n2", Profile: handshake.Noise, Key: key(2)})).To(BeTrue())
		Expect(cache.cache.Full()).To(BeTrue())
		Expect(cache.cache.Remember(handshake.DeviceRecord{ID: "n3", Profile: handshake.Noise, Key: key(3)})).To(BeFalse())
		for i := 1; i <= 2; i++ {
			_, err := cache.DeviceByKey(ctx, handshake.Noise, key(i))
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(dir.byKey).To(BeZero(), "a full cache's Remember pushed no device out")
	})
})
