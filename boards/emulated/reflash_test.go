package emulated_test

import (
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/emulated"
	"shakedown/boards/measure"
	"shakedown/fixtures"
	"shakedown/handshake/noise"
	"shakedown/harness"
	bp "shakedown/harness/boardproto"
)

// A board reflashed with the same image and a blank EEPROM is a fresh
// emulator process of the same image: NV starts erased in each. Issue:
// in IK a repeated e with the same static keys repeats the message-1 key
// and nonce (docs/security.md, "Boards without an entropy source").
var _ = Describe("one image on two fresh boards", Label("emulated"), func() {
	n := len(emulated.Chips())
	for i, chip := range emulated.Chips() {
		// Devices after the ones the chips' own specs use: the server
		// keeps each device's message-1 counter.
		id := fmt.Sprintf("noise-%04d", n+i+1)

		Describe(chip, func() {
			BeforeEach(func() { requireEmulator(chip) })

			It("puts different ephemeral keys on the wire once each board is provisioned", func() {
				d := lab.device(id)
				a := firstEphemeral(chip, d, true)
				b := firstEphemeral(chip, d, true)
				Expect(a).NotTo(Equal(b), "two provisioned boards of one image drew the same e")
			})

			It("repeats its ephemeral key without a seed, unless the chip's emulated source differs", func() {
				_, differs, err := emulated.Entropy(chip)
				Expect(err).NotTo(HaveOccurred())
				d := lab.device(id)
				a := firstEphemeral(chip, d, false)
				b := firstEphemeral(chip, d, false)
				if differs {
					Expect(a).NotTo(Equal(b))
				} else {
					Expect(a).To(Equal(b), "the image alone fixes the stream on %s", chip)
				}
			})
		})
	}
})

// counters hands each device a message-1 counter above every one it
// used before, whatever order the specs run in: every board below starts
// with a blank counter.
var counters = struct {
	sync.Mutex
	next map[string]uint64
}{next: map[string]uint64{}}

func nextCounter(id string) uint64 {
	counters.Lock()
	defer counters.Unlock()
	counters.next[id] += 1000
	return counters.next[id]
}

// firstEphemeral starts a fresh emulator of chip's default image,
// provisions it as d (with a seed from crypto/rand when seeded, else with
// the identity alone), checks what INFO says feeds its generator, runs one
// noise handshake and returns the ephemeral public key of message 1.
func firstEphemeral(chip string, d fixtures.Device, seeded bool) []byte {
	GinkgoHelper()
	source, _, err := emulated.Entropy(chip)
	Expect(err).NotTo(HaveOccurred())
	r := startRig(chip)
	defer func() {
		Expect(r.h.Close()).To(Succeed())
		Expect(r.board.Close()).To(Succeed())
	}()
	in, err := r.h.Info(ctx())
	Expect(err).NotTo(HaveOccurred())
	Expect(in.Caps&bp.CapSeeded).To(BeZero(), "a fresh board's generator holds no seed")
	Expect(in.Caps&bp.CapEntropy != 0).To(Equal(source != ""), "INFO's caps entropy on %s", chip)

	p, err := measure.Provisioning(lab.set, d)
	Expect(err).NotTo(HaveOccurred())
	Expect(p.RNGSeed).To(HaveLen(bp.RNGSeedLen))
	if !seeded {
		p.RNGSeed = nil
	}
	c := nextCounter(d.ID)
	p.Counter = &c
	Expect(r.h.Provision(ctx(), p)).To(Succeed())
	in, err = r.h.Info(ctx())
	Expect(err).NotTo(HaveOccurred())
	Expect(in.Caps&bp.CapSeeded != 0).To(Equal(seeded))

	rec := newRecorder()
	s, err := r.handshake(d, rec.tap())
	Expect(err).NotTo(HaveOccurred())
	Expect(s.Result.Counter).To(Equal(c + 1))
	Expect(s.Close()).To(Succeed())
	msg1 := rec.bytes(harness.BoardToServer)
	Expect(len(msg1)).To(BeNumerically(">=", 2+noise.MsgLenIK1))
	return msg1[2 : 2+noise.KeyLen]
}
