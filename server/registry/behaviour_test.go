package registry_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/credential"
	"shakedown/server/registry"
)

// itBehavesLikeARegistry is the suite every backend passes.
func itBehavesLikeARegistry(b backendUnderTest) {
	var (
		ctx context.Context
		dsn string
		reg registry.Registry
	)

	BeforeEach(func() {
		ctx = context.Background()
		dsn = b.fresh(GinkgoT())
		reg = openReg(GinkgoT(), dsn)
	})

	// reasonOf returns the *handshake.Error in err, failing without one.
	handshakeError := func(err error) *handshake.Error {
		GinkgoHelper()
		var he *handshake.Error
		Expect(errors.As(err, &he)).To(BeTrue(), "want a *handshake.Error, got %v", err)
		return he
	}

	Describe("devices", func() {
		It("stores a device of every profile and reads it back", func() {
			devices := []registry.Device{noiseDevice(), seedP256Device(), seedSecp160r1Device(), pskDevice(), tlsDevice(), tlsCertDevice()}
			for _, d := range devices {
				before := time.Now()
				Expect(reg.AddDevice(ctx, d)).To(Succeed())

				got, err := reg.Device(ctx, d.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(d.ID))
				Expect(got.Profile).To(Equal(d.Profile))
				Expect(got.Curve).To(Equal(d.Curve))
				Expect(got.Key).To(Equal(d.Key))
				Expect(got.State).To(Equal(registry.Active))
				Expect(got.Counter).To(BeZero())
				Expect(got.Created).To(BeTemporally("~", before, time.Second))
				Expect(got.LastSeen.IsZero()).To(BeTrue())
				Expect(got.PasswordHash).To(Equal(d.PasswordHash))
				Expect(got.Grants).To(Equal(d.Grants))

				rec, err := reg.DeviceByID(ctx, d.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(rec).To(Equal(d.Record()))
				if len(d.Key) > 0 {
					rec, err := reg.DeviceByKey(ctx, d.Profile, d.Key)
					Expect(err).NotTo(HaveOccurred())
					Expect(rec).To(Equal(d.Record()))
				}
			}
			rec, hash, err := reg.StoredPassword(ctx, devices[4].ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(rec).To(Equal(devices[4].Record()))
			Expect(hash).To(Equal(devices[4].PasswordHash))
			_, hash, err = reg.StoredPassword(ctx, devices[5].ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(hash).To(BeEmpty(), "a certificate-only device has no password")
			_, _, err = reg.StoredPassword(ctx, "nobody")
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			Expect(err.Error()).NotTo(ContainSubstring("nobody"))
		})

		It("keeps one password key, made on first use and shared by every handle", func() {
			k, err := reg.PasswordKey(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(k).To(HaveLen(credential.KeyLen))
			gateway2 := openReg(GinkgoT(), dsn)
			k2, err := gateway2.PasswordKey(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(k2).To(Equal(k))
			other, err := openReg(GinkgoT(), b.fresh(GinkgoT())).PasswordKey(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(other).NotTo(Equal(k), "every registry makes its own")
		})

		It("stores machine password hashes of its own key only", func() {
			k, err := reg.PasswordKey(ctx)
			Expect(err).NotTo(HaveOccurred())
			d := registry.Device{ID: newID("tlspw"), Profile: handshake.TLS}
			d.PasswordHash, err = credential.HashMachine(k, d.ID, []byte("n3w6D0mWk1mJ1p7Yv4o2xQkJ8m3N0b5Z6c9VfT1qR2s"))
			Expect(err).NotTo(HaveOccurred())
			Expect(reg.AddDevice(ctx, d)).To(Succeed())

			foreign, err := credential.NewKey()
			Expect(err).NotTo(HaveOccurred())
			e := registry.Device{ID: newID("tlspw"), Profile: handshake.TLS}
			e.PasswordHash, err = credential.HashMachine(foreign, e.ID, []byte("n3w6D0mWk1mJ1p7Yv4o2xQkJ8m3N0b5Z6c9VfT1qR2s"))
			Expect(err).NotTo(HaveOccurred())
			err = reg.AddDevice(ctx, e)
			Expect(err).To(MatchError(registry.ErrInvalid))
			Expect(err.Error()).To(ContainSubstring("password key " + credential.KeyID(foreign)))
			Expect(reg.ImportDevices(ctx, []registry.Device{pskDevice(), e})).To(MatchError(registry.ErrInvalid))
		})

		It("refuses a duplicate ID or key and allows one key under two profiles", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())

			sameID := pskDevice()
			sameID.ID = d.ID
			Expect(reg.AddDevice(ctx, sameID)).To(MatchError(registry.ErrExists))
			sameKey := noiseDevice()
			sameKey.Key = d.Key
			Expect(reg.AddDevice(ctx, sameKey)).To(MatchError(registry.ErrExists))
			_, err := reg.Device(ctx, sameKey.ID)
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))

			otherProfile := pskDevice()
			otherProfile.Key = d.Key
			Expect(reg.AddDevice(ctx, otherProfile)).To(Succeed())
			// tls devices without a certificate have no key: any number of
			// them fit the key index; a certificate pin is unique.
			pwOnly := func() registry.Device { d := tlsDevice(); d.Key = nil; return d }
			Expect(reg.AddDevice(ctx, pwOnly())).To(Succeed())
			Expect(reg.AddDevice(ctx, pwOnly())).To(Succeed())
			cert := tlsCertDevice()
			Expect(reg.AddDevice(ctx, cert)).To(Succeed())
			samePin := tlsCertDevice()
			samePin.Key = cert.Key
			Expect(reg.AddDevice(ctx, samePin)).To(MatchError(registry.ErrExists))

			rec, err := reg.DeviceByKey(ctx, handshake.Noise, d.Key)
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.ID).To(Equal(d.ID))
			rec, err = reg.DeviceByKey(ctx, handshake.PSK, d.Key)
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.ID).To(Equal(otherProfile.ID))
		})

		DescribeTable("refuses an invalid record, alone or in an import",
			func(bad func() registry.Device) {
				d := bad()
				Expect(reg.AddDevice(ctx, d)).To(MatchError(registry.ErrInvalid))
				good := pskDevice()
				Expect(reg.ImportDevices(ctx, []registry.Device{good, d})).To(MatchError(registry.ErrInvalid))
				_, err := reg.Device(ctx, good.ID)
				Expect(err).To(MatchError(handshake.ErrUnknownDevice))
				page, err := reg.ListDevices(ctx, registry.ListOptions{})
				Expect(err).NotTo(HaveOccurred())
				Expect(page.Devices).To(BeEmpty())
			},
			Entry("empty ID", func() registry.Device { d := noiseDevice(); d.ID = ""; return d }),
			Entry("ID with a space", func() registry.Device { d := noiseDevice(); d.ID = "dev 1"; return d }),
			Entry("ID with a control byte", func() registry.Device { d := noiseDevice(); d.ID = "dev\x001"; return d }),
			Entry("ID of 129 bytes", func() registry.Device { d := noiseDevice(); d.ID = strings.Repeat("d", 129); return d }),
			Entry("ID '+', a wildcard level", func() registry.Device { d := noiseDevice(); d.ID = "+"; return d }),
			Entry("ID '#', a wildcard level", func() registry.Device { d := noiseDevice(); d.ID = "#"; return d }),
			Entry("ID 'a/b', two topic levels", func() registry.Device { d := noiseDevice(); d.ID = "a/b"; return d }),
			Entry("ID 'x+y'", func() registry.Device { d := noiseDevice(); d.ID = "x+y"; return d }),
			Entry("ID with a non-ASCII letter", func() registry.Device { d := noiseDevice(); d.ID = "gerät"; return d }),
			Entry("unknown profile", func() registry.Device { d := noiseDevice(); d.Profile = "ssh"; return d }),
			Entry("unknown state", func() registry.Device { d := noiseDevice(); d.State = "paused"; return d }),
			Entry("31-byte noise key", func() registry.Device { d := noiseDevice(); d.Key = d.Key[:31]; return d }),
			Entry("all-zero noise key", func() registry.Device { d := noiseDevice(); d.Key = make([]byte, 32); return d }),
			Entry("all-zero psk", func() registry.Device { d := pskDevice(); d.Key = make([]byte, 32); return d }),
			Entry("33-byte psk", func() registry.Device { d := pskDevice(); d.Key = randomBytes(33); return d }),
			Entry("seed device without a curve", func() registry.Device { d := seedP256Device(); d.Curve = ""; return d }),
			Entry("P-256 point off the curve", func() registry.Device { d := seedP256Device(); d.Key[64] ^= 1; return d }),
			Entry("compressed secp160r1 point", func() registry.Device { d := seedSecp160r1Device(); d.Key[0] = 0x02; return d }),
			Entry("curve on a noise device", func() registry.Device { d := noiseDevice(); d.Curve = registry.CurveP256; return d }),
			Entry("tls device without a pin or a password hash", func() registry.Device { d := tlsDevice(); d.Key, d.PasswordHash = nil, ""; return d }),
			Entry("tls device with a plaintext password", func() registry.Device { d := tlsDevice(); d.PasswordHash = "hunter2"; return d }),
			Entry("tls device with a mosquitto $6$ hash", func() registry.Device {
				d := tlsDevice()
				d.PasswordHash = "$6$Dmx1isZJ18sovbYV$pjM7z0kmJOpEa6mysc48IMpxCuz9OqCZ8aM6VgfXYZ84O9/e0r7vk6AzjieO/vUGVu9ia+D1UwPO9RCiqxEuCQ=="
				return d
			}),
			Entry("tls device with a 31-byte pin", func() registry.Device { d := tlsDevice(); d.Key = randomBytes(31); return d }),
			Entry("tls device with an all-zero pin", func() registry.Device { d := tlsDevice(); d.Key = make([]byte, 32); return d }),
			Entry("password hash on a noise device", func() registry.Device { d := noiseDevice(); d.PasswordHash = tlsHash(); return d }),
			Entry("grant with '#' before the last level", func() registry.Device { d := tlsDevice(); d.Grants = []string{"a/#/b"}; return d }),
			Entry("grant with '+' inside a level", func() registry.Device { d := tlsDevice(); d.Grants = []string{"a/b+"}; return d }),
			Entry("empty grant", func() registry.Device { d := tlsDevice(); d.Grants = []string{""}; return d }),
		)

		It("reports an unknown device without quoting what was looked up", func() {
			id := "peer-sent-" + hex.EncodeToString(randomBytes(8))
			key := randomBytes(32)

			_, err := reg.DeviceByID(ctx, id)
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			he := handshakeError(err)
			Expect(he.Stage).To(Equal(handshake.StageLookup))
			Expect(he.Reason).To(Equal(handshake.ReasonUnknownDevice))
			Expect(err.Error()).NotTo(ContainSubstring(id))

			_, err = reg.DeviceByKey(ctx, handshake.Noise, key)
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			Expect(handshakeError(err).Profile).To(Equal(handshake.Noise))
			Expect(err.Error()).NotTo(ContainSubstring(hex.EncodeToString(key)))
			Expect(err.Error()).NotTo(ContainSubstring(string(key)))

			// Bytes no registered ID can have never reach the database.
			_, err = reg.DeviceByID(ctx, "\xff\xfe\x00peer")
			Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonUnknownDevice))
			Expect(err.Error()).NotTo(ContainSubstring("peer"))
			_, err = reg.DeviceByKey(ctx, handshake.Noise, randomBytes(4096))
			Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonUnknownDevice))

			err = reg.AcceptCounter(ctx, id, 1)
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			Expect(handshakeError(err).Stage).To(Equal(handshake.StageMsg1))
			Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonUnknownDevice))
			Expect(err.Error()).NotTo(ContainSubstring(id))

			Expect(reg.Revoke(ctx, id)).To(MatchError(handshake.ErrUnknownDevice))
			_, err = reg.Device(ctx, id)
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
		})
	})

	Describe("device IDs in the schema", func() {
		// insertSQL registers a tls device by hand, as an older program or
		// an operator's SQL would.
		insertSQL := func(id string, counter int) string {
			return fmt.Sprintf(`INSERT INTO devices (id, profile, password_hash, counter, created_us) VALUES ('%s', 'tls', '%s', %d, 1)`,
				id, tlsHash(), counter)
		}
		// versionOne builds an empty registry of schema version 1.
		versionOne := func() string {
			dsn := b.fresh(GinkgoT())
			for _, stmt := range registry.SchemaVersion1ForTest(b.name) {
				b.raw(GinkgoT(), dsn, stmt)
			}
			b.raw(GinkgoT(), dsn, `CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_us BIGINT NOT NULL)`)
			b.raw(GinkgoT(), dsn, `INSERT INTO schema_version (version, applied_us) VALUES (1, 0)`)
			return dsn
		}

		It("refuses by itself an ID the rule refuses: a CHECK constraint", func() {
			Expect(b.exec(GinkgoT(), dsn, insertSQL("ok-1.a:b_c", 0))).To(Succeed())
			for _, id := range []string{"+", "#", "a/b", "x+y", "", strings.Repeat("d", 129), "dev 1", "gerät", "$SYS"} {
				Expect(b.exec(GinkgoT(), dsn, insertSQL(id, 0))).NotTo(Succeed(), "ID %q", id)
			}
			if b.name == "SQLite" {
				// GLOB stops at a NUL byte; the length check does not.
				Expect(b.exec(GinkgoT(), dsn, strings.Replace(insertSQL("ok", 0), "'ok'", "'ok' || char(0) || '/x'", 1))).NotTo(Succeed())
			}
			Expect(b.count(GinkgoT(), dsn, `SELECT COUNT(*) FROM devices`)).To(Equal(int64(1)))
		})

		It("migrates a registry of schema version 1, keeping every device", func() {
			old := versionOne()
			for i, id := range []string{"sensor-1", "a4:cf:12:0b:9e:01", "Gate_7.b"} {
				b.raw(GinkgoT(), old, insertSQL(id, 40+i))
			}
			r := openReg(GinkgoT(), old)
			page, err := r.ListDevices(ctx, registry.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(page.Devices).To(HaveLen(3))
			d, err := r.Device(ctx, "a4:cf:12:0b:9e:01")
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Counter).To(Equal(uint64(41)))
			Expect(d.CounterReset.IsZero()).To(BeTrue())
			checker, err := credential.NewChecker(make([]byte, credential.KeyLen), 1)
			Expect(err).NotTo(HaveOccurred())
			_, err = checker.Check(d.ID, d.PasswordHash, []byte("correct horse battery staple"))
			Expect(err).NotTo(HaveOccurred(), "the imported hash survives the migration")
			Expect(r.AcceptCounter(ctx, "Gate_7.b", 43)).To(Succeed())
			Expect(b.exec(GinkgoT(), old, insertSQL("a/b", 0))).NotTo(Succeed(), "the migrated schema has the CHECK")
			Expect(b.count(GinkgoT(), old, `SELECT MAX(version) FROM schema_version`)).To(Equal(int64(3)))
		})

		It("refuses to open a registry of version 1 holding IDs the rule refuses, says how to fix it, and opens once they are fixed", func() {
			old := versionOne()
			for i, id := range []string{"sensor-1", "a/b", "x+y", "+", "dev 1"} {
				b.raw(GinkgoT(), old, insertSQL(id, 40+i))
			}
			_, err := registry.Open(ctx, old)
			Expect(err).To(MatchError(registry.ErrDeviceIDs))
			for _, want := range []string{"4 registered devices", `"+"`, `"a/b"`, `"dev 1"`, `"x+y"`, "docs/registry.md", "Nothing was changed"} {
				Expect(err.Error()).To(ContainSubstring(want))
			}
			Expect(b.count(GinkgoT(), old, `SELECT MAX(version) FROM schema_version`)).To(Equal(int64(1)), "still version 1")

			// The fix docs/registry.md shows: rename or delete.
			b.raw(GinkgoT(), old, `UPDATE devices SET id = 'a-b' WHERE id = 'a/b'`)
			b.raw(GinkgoT(), old, `DELETE FROM devices WHERE id IN ('x+y', '+')`)
			_, err = registry.Open(ctx, old)
			Expect(err).To(MatchError(ContainSubstring(`1 registered devices, among them "dev 1"`)))
			b.raw(GinkgoT(), old, `UPDATE devices SET id = 'dev-1' WHERE id = 'dev 1'`)

			r := openReg(GinkgoT(), old)
			d, err := r.Device(ctx, "a-b")
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Counter).To(Equal(uint64(41)))
			page, err := r.ListDevices(ctx, registry.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(page.Devices).To(HaveLen(3))
		})
	})

	Describe("counter reset", func() {
		It("sets the counter back to 0, records when and from what, and lets the device in from 1", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			Expect(reg.AcceptCounter(ctx, d.ID, 41)).To(Succeed())
			before := time.Now()
			previous, err := reg.ResetCounter(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(previous).To(Equal(uint64(41)))

			got, err := reg.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Counter).To(BeZero())
			Expect(got.CounterReset).To(BeTemporally("~", before, 5*time.Second))
			Expect(b.count(GinkgoT(), dsn, `SELECT COUNT(*) FROM counter_resets WHERE device_id = '`+d.ID+`' AND previous = 41`)).To(Equal(int64(1)))

			Expect(reg.AcceptCounter(ctx, d.ID, 1)).To(Succeed())
			Expect(reg.AcceptCounter(ctx, d.ID, 1)).To(MatchError(handshake.ErrCounterReplay))
		})

		It("unlocks a device whose stored counter is 2^64-1, and keeps each reset", func() {
			d := noiseDevice()
			d.Counter = math.MaxUint64 // stored before the value was reserved
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			Expect(reg.AcceptCounter(ctx, d.ID, 5)).To(MatchError(handshake.ErrCounterReplay))
			previous, err := reg.ResetCounter(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(previous).To(Equal(uint64(math.MaxUint64)))
			Expect(reg.AcceptCounter(ctx, d.ID, 5)).To(Succeed())
			previous, err = reg.ResetCounter(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(previous).To(Equal(uint64(5)))
			Expect(b.count(GinkgoT(), dsn, `SELECT COUNT(*) FROM counter_resets WHERE device_id = '`+d.ID+`'`)).To(Equal(int64(2)))

			// Exported and imported, the reset time stays.
			got, err := reg.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			other := openReg(GinkgoT(), b.fresh(GinkgoT()))
			Expect(other.ImportDevices(ctx, []registry.Device{got})).To(Succeed())
			again, err := other.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(again.CounterReset).To(Equal(got.CounterReset))
		})

		It("refuses an unknown device and changes nothing", func() {
			_, err := reg.ResetCounter(ctx, "never-registered")
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			_, err = reg.ResetCounter(ctx, "a/b")
			Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			Expect(b.count(GinkgoT(), dsn, `SELECT COUNT(*) FROM counter_resets`)).To(BeZero())
		})
	})

	Describe("import", func() {
		It("imports 5,000 devices in one call", func() {
			ds := make([]registry.Device, 5000)
			for i := range ds {
				if i%2 == 0 {
					ds[i] = noiseDevice()
				} else {
					ds[i] = pskDevice()
				}
			}
			start := time.Now()
			Expect(reg.ImportDevices(ctx, ds)).To(Succeed())
			AddReportEntry(b.name+": import of 5,000 devices", time.Since(start).String())

			n := 0
			Expect(reg.ExportDevices(ctx, registry.ListOptions{Limit: registry.MaxPageSize}, func(registry.Device) error {
				n++
				return nil
			})).To(Succeed())
			Expect(n).To(Equal(len(ds)))
			for _, i := range []int{0, 2500, 4999} {
				rec, err := reg.DeviceByKey(ctx, ds[i].Profile, ds[i].Key)
				Expect(err).NotTo(HaveOccurred())
				Expect(rec.ID).To(Equal(ds[i].ID))
			}
		})

		It("imports all or nothing, and names the device in the way", func() {
			existing := noiseDevice()
			Expect(reg.AddDevice(ctx, existing)).To(Succeed())
			batch := make([]registry.Device, 3000)
			for i := range batch {
				batch[i] = noiseDevice()
			}
			batch[2500].Key = existing.Key
			err := reg.ImportDevices(ctx, batch)
			Expect(err).To(MatchError(registry.ErrExists))
			Expect(err.Error()).To(ContainSubstring("device 2500"))
			for _, i := range []int{0, 1999, 2999} {
				_, err := reg.Device(ctx, batch[i].ID)
				Expect(err).To(MatchError(handshake.ErrUnknownDevice))
			}

			batch[2500] = noiseDevice()
			batch[10].ID = batch[3].ID
			err = reg.ImportDevices(ctx, batch)
			Expect(err).To(MatchError(registry.ErrExists))
			Expect(err.Error()).To(ContainSubstring("devices 3 and 10"))

			batch[10] = noiseDevice()
			Expect(reg.ImportDevices(ctx, batch)).To(Succeed())
		})
	})

	Describe("listing", func() {
		It("pages through devices in ID order, filtered by profile and state", func() {
			var ds []registry.Device
			for range 150 {
				ds = append(ds, noiseDevice())
			}
			for range 100 {
				ds = append(ds, pskDevice())
			}
			Expect(reg.ImportDevices(ctx, ds)).To(Succeed())
			for i := 0; i < 150; i += 10 {
				Expect(reg.Revoke(ctx, ds[i].ID)).To(Succeed())
			}

			var sizes []int
			var ids []string
			opt := registry.ListOptions{}
			for {
				page, err := reg.ListDevices(ctx, opt)
				Expect(err).NotTo(HaveOccurred())
				sizes = append(sizes, len(page.Devices))
				for _, d := range page.Devices {
					ids = append(ids, d.ID)
				}
				if page.Next == "" {
					break
				}
				Expect(page.Next).To(Equal(page.Devices[len(page.Devices)-1].ID))
				opt.After = page.Next
			}
			Expect(sizes).To(Equal([]int{100, 100, 50}))
			want := make([]string, len(ds))
			for i, d := range ds {
				want[i] = d.ID
			}
			slices.Sort(want)
			Expect(ids).To(Equal(want))

			count := func(opt registry.ListOptions) int {
				n := 0
				Expect(reg.ExportDevices(ctx, opt, func(registry.Device) error { n++; return nil })).To(Succeed())
				return n
			}
			Expect(count(registry.ListOptions{Profile: handshake.Noise, Limit: 7})).To(Equal(150))
			Expect(count(registry.ListOptions{Profile: handshake.PSK})).To(Equal(100))
			Expect(count(registry.ListOptions{State: registry.Revoked})).To(Equal(15))
			Expect(count(registry.ListOptions{Profile: handshake.Noise, State: registry.Active})).To(Equal(135))
			Expect(count(registry.ListOptions{Profile: handshake.TLS})).To(Equal(0))

			page, err := reg.ListDevices(ctx, registry.ListOptions{Limit: 3, After: want[246]})
			Expect(err).NotTo(HaveOccurred())
			Expect(page.Devices).To(HaveLen(3))
			Expect(page.Next).To(BeEmpty())
		})

		It("refuses bad list options", func() {
			for _, opt := range []registry.ListOptions{
				{Limit: -1}, {Limit: registry.MaxPageSize + 1}, {State: "paused"}, {Profile: "ssh"},
			} {
				_, err := reg.ListDevices(ctx, opt)
				Expect(err).To(MatchError(registry.ErrInvalid))
			}
		})

		It("exports what a fresh registry imports unchanged", func() {
			ds := []registry.Device{noiseDevice(), seedP256Device(), seedSecp160r1Device(), pskDevice(), tlsDevice()}
			Expect(reg.ImportDevices(ctx, ds)).To(Succeed())
			Expect(reg.AcceptCounter(ctx, ds[0].ID, 1<<40)).To(Succeed())
			Expect(reg.Revoke(ctx, ds[3].ID)).To(Succeed())

			var out []registry.Device
			Expect(reg.ExportDevices(ctx, registry.ListOptions{Limit: 2}, func(d registry.Device) error {
				out = append(out, d)
				return nil
			})).To(Succeed())
			Expect(out).To(HaveLen(len(ds)))

			other := openReg(GinkgoT(), b.fresh(GinkgoT()))
			Expect(other.ImportDevices(ctx, out)).To(Succeed())
			var back []registry.Device
			Expect(other.ExportDevices(ctx, registry.ListOptions{}, func(d registry.Device) error {
				back = append(back, d)
				return nil
			})).To(Succeed())
			Expect(back).To(Equal(out))
			// The imported counter still refuses replays.
			Expect(other.AcceptCounter(ctx, ds[0].ID, 1<<40)).To(MatchError(handshake.ErrCounterReplay))
		})
	})

	Describe("revocation", func() {
		It("is seen at once through a second handle on the same database", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			Expect(reg.AcceptCounter(ctx, d.ID, 1)).To(Succeed())
			gateway2 := openReg(GinkgoT(), dsn)
			rec, err := gateway2.DeviceByKey(ctx, handshake.Noise, d.Key)
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.Revoked).To(BeFalse())

			Expect(reg.Revoke(ctx, d.ID)).To(Succeed())

			rec, err = gateway2.DeviceByKey(ctx, handshake.Noise, d.Key)
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.Revoked).To(BeTrue())
			Expect(handshake.CheckRecord(rec, handshake.Noise)).To(Equal(handshake.ReasonRevoked))
			err = gateway2.AcceptCounter(ctx, d.ID, 2)
			Expect(err).To(MatchError(registry.ErrRevoked))
			Expect(handshake.ReasonOf(err)).To(Equal(handshake.ReasonRevoked))
			Expect(handshakeError(err).Profile).To(Equal(handshake.Noise))

			Expect(gateway2.Revoke(ctx, d.ID)).To(Succeed(), "revoking twice")
			got, err := gateway2.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.State).To(Equal(registry.Revoked))
			Expect(got.Counter).To(Equal(uint64(1)))
		})
	})

	Describe("message-1 counters", func() {
		It("accepts only increasing counters", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			err := reg.AcceptCounter(ctx, d.ID, 0)
			Expect(err).To(MatchError(handshake.ErrCounterReplay), "0 means none yet")
			he := handshakeError(err)
			Expect(he.Reason).To(Equal(handshake.ReasonCounterReplay))
			Expect(he.Stage).To(Equal(handshake.StageMsg1))
			Expect(he.Profile).To(Equal(handshake.Noise))

			for _, step := range []struct {
				counter uint64
				ok      bool
			}{{1, true}, {5, true}, {5, false}, {4, false}, {6, true}} {
				err := reg.AcceptCounter(ctx, d.ID, step.counter)
				if step.ok {
					Expect(err).NotTo(HaveOccurred(), "counter %d", step.counter)
				} else {
					Expect(err).To(MatchError(handshake.ErrCounterReplay), "counter %d", step.counter)
				}
			}
			got, err := reg.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Counter).To(Equal(uint64(6)))
			Expect(got.LastSeen).To(BeTemporally("~", time.Now(), 5*time.Second))
		})

		DescribeTable("compares counters as unsigned 64-bit numbers, and never takes the reserved 2^64-1",
			func(stored, offered uint64, refused handshake.Reason) {
				d := noiseDevice()
				d.Counter = stored
				Expect(reg.AddDevice(ctx, d)).To(Succeed())
				err := reg.AcceptCounter(ctx, d.ID, offered)
				want := stored
				switch refused {
				case "":
					Expect(err).NotTo(HaveOccurred())
					want = offered
				case handshake.ReasonCounterReplay:
					Expect(err).To(MatchError(handshake.ErrCounterReplay))
				default:
					Expect(err).To(HaveOccurred())
					Expect(err).NotTo(MatchError(handshake.ErrCounterReplay))
				}
				Expect(handshake.ReasonOf(err)).To(Equal(refused))
				got, err := reg.Device(ctx, d.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.Counter).To(Equal(want))
			},
			Entry("the first counter", uint64(0), uint64(1), handshake.Reason("")),
			Entry("below 2^63", uint64(1<<62), uint64(1<<62+1), handshake.Reason("")),
			Entry("across 2^63", uint64(1<<63-1), uint64(1<<63), handshake.Reason("")),
			Entry("above 2^63", uint64(1<<63), uint64(1<<63+1), handshake.Reason("")),
			Entry("up to the greatest, 2^64-2", uint64(1<<63+5), noise.MaxCounter, handshake.Reason("")),
			Entry("a small one after 2^63", uint64(1<<63), uint64(5), handshake.ReasonCounterReplay),
			Entry("2^63-1 after 2^63", uint64(1<<63), uint64(1<<63-1), handshake.ReasonCounterReplay),
			Entry("the greatest twice", noise.MaxCounter, noise.MaxCounter, handshake.ReasonCounterReplay),
			Entry("the reserved 2^64-1, what erased flash reads as", uint64(7), uint64(math.MaxUint64), handshake.ReasonCounterReserved),
			Entry("the reserved 2^64-1 after the greatest", noise.MaxCounter, uint64(math.MaxUint64), handshake.ReasonCounterReserved),
			Entry("anything after a 2^64-1 stored before it was reserved", uint64(math.MaxUint64), uint64(1), handshake.ReasonCounterReplay),
		)

		// offerAll offers counters[i] through regs[i%len(regs)], all at once,
		// and returns the offers that won and the errors of the others.
		offerAll := func(id string, counters []uint64, regs ...registry.Registry) (won []uint64, lost []error) {
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, c := range counters {
				wg.Add(1)
				go func() {
					defer GinkgoRecover()
					defer wg.Done()
					<-start
					err := regs[i%len(regs)].AcceptCounter(ctx, id, c)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						won = append(won, c)
					} else {
						lost = append(lost, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			return won, lost
		}

		It("lets exactly one of 50 concurrent offers win: the fresh counter, once", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			Expect(reg.AcceptCounter(ctx, d.ID, 100)).To(Succeed())
			var counters []uint64
			for range 30 {
				counters = append(counters, 150)
			}
			for i := range 20 {
				counters = append(counters, uint64(100-5*i)) // stale: 100, 95, ... 5
			}
			rand.Shuffle(len(counters), func(i, j int) { counters[i], counters[j] = counters[j], counters[i] })

			won, lost := offerAll(d.ID, counters, reg)
			Expect(won).To(Equal([]uint64{150}))
			Expect(lost).To(HaveLen(49))
			for _, err := range lost {
				Expect(err).To(MatchError(handshake.ErrCounterReplay))
			}
			got, err := reg.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Counter).To(Equal(uint64(150)))
		})

		It("keeps the greatest of 50 concurrent distinct counters, each winner once", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			counters := make([]uint64, 50)
			for i := range counters {
				counters[i] = uint64(i + 1)
			}
			rand.Shuffle(len(counters), func(i, j int) { counters[i], counters[j] = counters[j], counters[i] })

			won, lost := offerAll(d.ID, counters, reg)
			Expect(won).To(ContainElement(uint64(50)), "nothing can beat the greatest")
			Expect(len(won) + len(lost)).To(Equal(50))
			for _, err := range lost {
				Expect(err).To(MatchError(handshake.ErrCounterReplay))
			}
			got, err := reg.Device(ctx, d.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Counter).To(Equal(uint64(50)))
		})

		It("lets exactly one of two gateways win a counter both were offered", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			gateway2 := openReg(GinkgoT(), dsn)
			counters := make([]uint64, 50)
			for i := range counters {
				counters[i] = 7
			}
			won, lost := offerAll(d.ID, counters, reg, gateway2)
			Expect(won).To(Equal([]uint64{7}))
			Expect(lost).To(HaveLen(49))
			for _, err := range lost {
				Expect(err).To(MatchError(handshake.ErrCounterReplay))
			}
		})
	})

	Describe("durability", func() {
		It("keeps counters, revocations and keys across Close and reopen", func() {
			a, v := noiseDevice(), pskDevice()
			Expect(reg.ImportDevices(ctx, []registry.Device{a, v})).To(Succeed())
			Expect(reg.AcceptCounter(ctx, a.ID, 41)).To(Succeed())
			Expect(reg.Revoke(ctx, v.ID)).To(Succeed())
			kp := noiseKeypair()
			Expect(reg.AnnounceNextKey(ctx, kp)).To(Succeed())
			Expect(reg.PromoteNextKey(ctx)).To(Succeed())

			Expect(reg.Close()).To(Succeed())
			Expect(reg.Close()).To(Succeed(), "closing twice")
			Expect(reg.AcceptCounter(ctx, a.ID, 42)).To(MatchError(registry.ErrClosed))

			reopened := openReg(GinkgoT(), dsn)
			got, err := reopened.Device(ctx, a.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Counter).To(Equal(uint64(41)))
			Expect(reopened.AcceptCounter(ctx, a.ID, 41)).To(MatchError(handshake.ErrCounterReplay))
			rec, err := reopened.DeviceByID(ctx, v.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(rec.Revoked).To(BeTrue())
			keys, err := reopened.ServerKeys(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(keys.Current.Keypair).To(Equal(kp))
		})

		It("migrates once, also when gateways start together, and refuses a newer schema", func() {
			Expect(reg.Close()).To(Succeed())
			fresh := b.fresh(GinkgoT())
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := registry.Open(ctx, fresh)
					if err == nil {
						err = r.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for _, err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(openReg(GinkgoT(), dsn).Close()).To(Succeed())

			b.raw(GinkgoT(), dsn, "INSERT INTO schema_version (version, applied_us) VALUES (99, 0)")
			_, err := registry.Open(ctx, dsn)
			Expect(err).To(MatchError(ContainSubstring("newer than this program")))
		})
	})

	Describe("last seen", func() {
		It("writes notes in batches, the newest note winning, and on Close", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			t1 := time.Now().Add(-time.Hour).Truncate(time.Microsecond).UTC()
			t2 := t1.Add(time.Minute)
			reg.TouchLastSeen(d.ID, t2)
			reg.TouchLastSeen(d.ID, t1)
			reg.TouchLastSeen("never-registered", t1)

			gateway2 := openReg(GinkgoT(), dsn)
			lastSeen := func() time.Time {
				got, err := gateway2.Device(ctx, d.ID)
				Expect(err).NotTo(HaveOccurred())
				return got.LastSeen
			}
			Eventually(lastSeen).WithTimeout(10 * registry.LastSeenFlushInterval).Should(Equal(t2))

			t3 := t2.Add(time.Minute)
			reg.TouchLastSeen(d.ID, t3)
			Expect(reg.Close()).To(Succeed())
			Expect(lastSeen()).To(Equal(t3))
		})
	})

	Describe("server keys", func() {
		It("announces, promotes and keeps the previous key", func() {
			keys, err := reg.ServerKeys(ctx)
			Expect(err).To(MatchError(registry.ErrNoServerKey))
			Expect(keys).To(Equal(registry.ServerKeys{}))
			Expect(reg.PromoteNextKey(ctx)).To(MatchError(registry.ErrNoServerKey))

			k1, k2, k3 := noiseKeypair(), noiseKeypair(), noiseKeypair()
			Expect(reg.AnnounceNextKey(ctx, k1)).To(Succeed())
			keys, err = reg.ServerKeys(ctx)
			Expect(err).To(MatchError(registry.ErrNoServerKey), "announced, not promoted")
			Expect(keys.Next.Keypair).To(Equal(k1))
			Expect(keys.Current).To(BeNil())

			Expect(reg.PromoteNextKey(ctx)).To(Succeed())
			keys, err = reg.ServerKeys(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(keys.Current.Keypair).To(Equal(k1))
			Expect(keys.Next).To(BeNil())
			Expect(keys.Previous).To(BeNil())

			Expect(reg.AnnounceNextKey(ctx, k2)).To(Succeed())
			Expect(reg.AnnounceNextKey(ctx, k2)).To(Succeed(), "announcing the announced key again")
			Expect(reg.AnnounceNextKey(ctx, k3)).To(MatchError(registry.ErrExists), "another key is pending")
			Expect(reg.AnnounceNextKey(ctx, k1)).To(MatchError(registry.ErrExists), "the current key")

			gateway2 := openReg(GinkgoT(), dsn)
			keys, err = gateway2.ServerKeys(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(keys.Current.Keypair).To(Equal(k1))
			Expect(keys.Next.Keypair).To(Equal(k2))

			before := time.Now()
			Expect(gateway2.PromoteNextKey(ctx)).To(Succeed())
			keys, err = reg.ServerKeys(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(keys.Current.Keypair).To(Equal(k2))
			Expect(keys.Current.Since).To(BeTemporally("~", before, 5*time.Second))
			Expect(keys.Previous.Keypair).To(Equal(k1))
			Expect(keys.Previous.Since).To(Equal(keys.Current.Since))
			Expect(keys.Next).To(BeNil())
			Expect(reg.AnnounceNextKey(ctx, k1)).To(MatchError(registry.ErrExists), "a retired key")
		})

		It("refuses a keypair whose halves do not match", func() {
			k1, k2 := noiseKeypair(), noiseKeypair()
			Expect(reg.AnnounceNextKey(ctx, registry.Keypair{Private: k1.Private, Public: k2.Public})).To(MatchError(registry.ErrInvalid))
			Expect(reg.AnnounceNextKey(ctx, registry.Keypair{Private: k1.Private[:31], Public: k1.Public})).To(MatchError(registry.ErrInvalid))
			keys, _ := reg.ServerKeys(ctx)
			Expect(keys.Next).To(BeNil())
		})
	})

	Describe("after SIGKILL of a writing process", Label("crash"), func() {
		It("never moves a counter backwards", func() {
			d := noiseDevice()
			Expect(reg.AddDevice(ctx, d)).To(Succeed())
			for round := range 3 {
				stored := deviceIn(dsn, d.ID).Counter
				session := startCrashtest(dsn, d.ID, stored+1, "")
				last := killAfterAccepted(session, 200)
				// A fresh handle, as a restarted server would open.
				got := deviceIn(dsn, d.ID)
				Expect(got.Counter).To(BeNumerically(">=", last), "round %d", round)
				r := openReg(GinkgoT(), dsn)
				Expect(r.AcceptCounter(ctx, d.ID, last)).To(MatchError(handshake.ErrCounterReplay))
				AddReportEntry(b.name+": counter after SIGKILL", map[string]uint64{"last printed": last, "stored": got.Counter})
			}
		})

		It("keeps a revoked device revoked", func() {
			victim, d := noiseDevice(), noiseDevice()
			Expect(reg.ImportDevices(ctx, []registry.Device{victim, d})).To(Succeed())
			Expect(reg.AcceptCounter(ctx, victim.ID, 1)).To(Succeed())
			session := startCrashtest(dsn, d.ID, 1, victim.ID)
			Eventually(session.Out).WithTimeout(time.Minute).Should(gbytes.Say("revoked\n"))
			last := killAfterAccepted(session, 50)

			Expect(deviceIn(dsn, victim.ID).State).To(Equal(registry.Revoked))
			Expect(deviceIn(dsn, d.ID).Counter).To(BeNumerically(">=", last))
			r := openReg(GinkgoT(), dsn)
			Expect(r.AcceptCounter(ctx, victim.ID, 1<<40)).To(MatchError(registry.ErrRevoked))
		})
	})
}
