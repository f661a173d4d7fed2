package credential_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"shakedown/server/credential"
)

// machinePassword is 32 random bytes, base64url, as the fixtures make them.
const machinePassword = "n3w6D0mWk1mJ1p7Yv4o2xQkJ8m3N0b5Z6c9VfT1qR2s"

func mustKey() []byte {
	k, err := credential.NewKey()
	Expect(err).NotTo(HaveOccurred())
	return k
}

func mustChecker(k []byte, slots int) *credential.Checker {
	c, err := credential.NewChecker(k, slots)
	Expect(err).NotTo(HaveOccurred())
	return c
}

var _ = Describe("machine passwords", func() {
	It("are HMAC-SHA-256 under the server key, bound to the device ID", func() {
		k := mustKey()
		h, err := credential.HashMachine(k, "meter-9", []byte(machinePassword))
		Expect(err).NotTo(HaveOccurred())
		Expect(h).To(MatchRegexp(`^\$hmac-sha256\$k=[0-9a-f]{16}\$[A-Za-z0-9+/]{43}$`))
		Expect(h).To(ContainSubstring("k=" + credential.KeyID(k)))
		Expect(h).NotTo(ContainSubstring(machinePassword))
		again, err := credential.HashMachine(k, "meter-9", []byte(machinePassword))
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(h), "deterministic: no salt, the key and the ID make it unique")

		c := mustChecker(k, 1)
		Expect(c.KeyID()).To(Equal(credential.KeyID(k)))
		scheme, err := c.Check("meter-9", h, []byte(machinePassword))
		Expect(err).NotTo(HaveOccurred())
		Expect(scheme).To(Equal(credential.SchemeHMAC))
		_, err = c.Check("meter-9", h, []byte(machinePassword[:len(machinePassword)-1]))
		Expect(err).To(MatchError(credential.ErrMismatch))
		_, err = c.Check("meter-8", h, []byte(machinePassword))
		Expect(err).To(MatchError(credential.ErrMismatch), "a hash copied to another device does not verify there")
	})

	It("refuses a hash made under another server key", func() {
		h, err := credential.HashMachine(mustKey(), "meter-9", []byte(machinePassword))
		Expect(err).NotTo(HaveOccurred())
		scheme, err := mustChecker(mustKey(), 1).Check("meter-9", h, []byte(machinePassword))
		Expect(err).To(MatchError(credential.ErrOtherKey))
		Expect(scheme).To(Equal(credential.SchemeHMAC))
	})

	It("refuses short secrets and bad keys", func() {
		_, err := credential.HashMachine(mustKey(), "meter-9", []byte("hunter2"))
		Expect(err).To(MatchError(credential.ErrShortSecret))
		_, err = credential.HashMachine(mustKey(), "meter-9", make([]byte, credential.MaxPasswordLen+1))
		Expect(err).To(MatchError(credential.ErrLongSecret))
		_, err = credential.HashMachine(make([]byte, 16), "meter-9", []byte(machinePassword))
		Expect(err).To(MatchError(credential.ErrKeyLen))
		_, err = credential.NewChecker(make([]byte, 31), 1)
		Expect(err).To(MatchError(credential.ErrKeyLen))
		_, err = credential.NewChecker(mustKey(), 0)
		Expect(err).To(HaveOccurred())
	})

	It("run the same HMAC for a device without a stored hash, and refuse it", func() {
		c := mustChecker(mustKey(), 1)
		scheme, err := c.Check("nobody", "", []byte(machinePassword))
		Expect(err).To(MatchError(credential.ErrMismatch))
		Expect(scheme).To(Equal(credential.SchemeNone))
		scheme, err = c.Check("nobody", "hunter2", []byte("hunter2"))
		Expect(err).To(MatchError(credential.ErrFormat), "a clear-text password in the store is not a hash")
		Expect(scheme).To(Equal(credential.SchemeNone))
	})
})

var _ = Describe("imported slow hashes", func() {
	password := []byte("correct horse battery staple")

	It("verifies argon2id in the PHC string format", func() {
		h, err := credential.HashArgon2id(password)
		Expect(err).NotTo(HaveOccurred())
		Expect(h).To(HavePrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
		c := mustChecker(mustKey(), 1)
		scheme, err := c.Check("u", h, password)
		Expect(err).NotTo(HaveOccurred())
		Expect(scheme).To(Equal(credential.SchemeArgon2id))
		_, err = c.Check("u", h, []byte("correct horse battery stapl"))
		Expect(err).To(MatchError(credential.ErrMismatch))
		other, err := credential.HashArgon2id(password)
		Expect(err).NotTo(HaveOccurred())
		Expect(other).NotTo(Equal(h), "a fresh salt every time")
	})

	It("reads the parameters, salt and tag of an argon2id hash", func() {
		salt := []byte("sixteen byte slt")
		tag := argon2.IDKey(password, salt, 3, 64, 2, 20)
		b64 := base64.RawStdEncoding
		h := "$argon2id$v=19$m=64,t=3,p=2$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(tag)
		c := mustChecker(mustKey(), 1)
		Expect(c.Check("u", h, password)).To(Equal(credential.SchemeArgon2id))
		_, err := c.Check("u", strings.Replace(h, "t=3,p=2", "t=2,p=3", 1), password)
		Expect(err).To(MatchError(credential.ErrMismatch))
	})

	It("verifies bcrypt", func() {
		h, err := bcrypt.GenerateFromPassword(password, bcrypt.MinCost)
		Expect(err).NotTo(HaveOccurred())
		c := mustChecker(mustKey(), 1)
		Expect(c.Check("u", string(h), password)).To(Equal(credential.SchemeBcrypt))
		_, err = c.Check("u", string(h), []byte("nope"))
		Expect(err).To(MatchError(credential.ErrMismatch))
	})

	DescribeTable("verifies mosquitto_passwd's $7$ vectors",
		func(user, pass string) {
			f, err := os.Open("testdata/mosquitto.passwd")
			Expect(err).NotTo(HaveOccurred())
			defer f.Close()
			es, err := credential.ParsePasswordFile(f)
			Expect(err).NotTo(HaveOccurred())
			Expect(es).To(HaveLen(3), "the comment and the blank line are skipped")
			c := mustChecker(mustKey(), 1)
			for _, e := range es {
				if e.User != user {
					continue
				}
				Expect(c.Check(user, e.Hash, []byte(pass))).To(Equal(credential.SchemePBKDF2))
				_, err := c.Check(user, e.Hash, []byte(pass+"x"))
				Expect(err).To(MatchError(credential.ErrMismatch))
				h, err := credential.Parse(e.Hash)
				Expect(err).NotTo(HaveOccurred())
				Expect(h.String()).To(Equal(e.Hash), "re-encodes as mosquitto wrote it")
				return
			}
			Fail("no entry for " + user)
		},
		Entry("101 iterations", "meter-9", "correct horse battery staple"),
		Entry("101 iterations, punctuation", "sensor_2", "Tr0ub4dor&3"),
		Entry("1,000 iterations", "gateway.a", "hunter2"),
	)

	It("refuses mosquitto 1.x $6$ files, and clear-text ones, naming the line only", func() {
		f, err := os.Open("testdata/mosquitto-sha512.passwd")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		_, err = credential.ParsePasswordFile(f)
		Expect(err).To(MatchError(credential.ErrWeakHash))
		Expect(err.Error()).To(ContainSubstring("line 1"))
		Expect(err.Error()).NotTo(ContainSubstring("old-one"))
		_, err = credential.ParsePasswordFile(strings.NewReader("# ok\nalice:s3cret-in-clear\n"))
		Expect(err).To(MatchError(ContainSubstring("line 2")))
		Expect(err.Error()).NotTo(ContainSubstring("s3cret"))
		Expect(err.Error()).NotTo(ContainSubstring("alice"))
		_, err = credential.ParsePasswordFile(strings.NewReader("no colon here\n"))
		Expect(err).To(MatchError(ContainSubstring("line 1")))
		machine, err := credential.HashMachine(mustKey(), "m", []byte(machinePassword))
		Expect(err).NotTo(HaveOccurred())
		_, err = credential.ParsePasswordFile(strings.NewReader("m:" + machine + "\n"))
		Expect(err).To(HaveOccurred(), "a password file holds human passwords, never machine hashes")
	})

	It("runs at most the slot count at once and refuses the rest at once", func() {
		const slots, tries = 2, 24
		h, err := credential.HashArgon2id(password)
		Expect(err).NotTo(HaveOccurred())
		c := mustChecker(mustKey(), slots)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[error]int{}
		start := make(chan struct{})
		for range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := c.Check("u", h, []byte("a wrong guess"))
				mu.Lock()
				counts[err]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		Expect(counts[credential.ErrMismatch]+counts[credential.ErrBusy]).To(Equal(tries), "every check either ran or was refused")
		Expect(counts[credential.ErrMismatch]).To(BeNumerically(">=", 1))
		// Slots are released: one more check runs.
		Expect(c.Check("u", h, password)).To(Equal(credential.SchemeArgon2id))
	})
})

var _ = Describe("stored hashes", func() {
	DescribeTable("parse and re-encode as written",
		func(s string, scheme credential.Scheme) {
			h, err := credential.Parse(s)
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Scheme()).To(Equal(scheme))
			Expect(h.String()).To(Equal(s))
		},
		Entry("argon2id", "$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA", credential.SchemeArgon2id),
		Entry("bcrypt", "$2b$04$"+strings.Repeat("a", 53), credential.SchemeBcrypt),
		Entry("mosquitto", "$7$101$Z9Z+D+QZSxWwmspm$60IJAaT2BfLRFsrE2LOIWCc4qN8qd5sJV6VGvPTgCWtXZl8+3opJ6COGbZkorda+p245uQ2OELJQ45W2NMgZjw==", credential.SchemePBKDF2),
		Entry("machine", "$hmac-sha256$k=0123456789abcdef$"+strings.Repeat("A", 43), credential.SchemeHMAC),
	)

	DescribeTable("refuse a malformed or unbounded hash without repeating it",
		func(s string) {
			_, err := credential.Parse(s)
			Expect(err).To(MatchError(credential.ErrFormat))
			if s != "" {
				Expect(err.Error()).NotTo(ContainSubstring(s))
			}
		},
		Entry("plaintext", "hunter2"),
		Entry("empty", ""),
		Entry("argon2i", "$argon2i$v=19$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id version 16", "$argon2id$v=16$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id memory over 64 MiB", "$argon2id$v=19$m=65537,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id zero passes", "$argon2id$v=19$m=64,t=0,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id m below 8p", "$argon2id$v=19$m=3,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id leading zero", "$argon2id$v=19$m=064,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id parameters out of order", "$argon2id$v=19$t=3,m=64,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id 4-byte salt", "$argon2id$v=19$m=64,t=3,p=2$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id padded base64", "$argon2id$v=19$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		Entry("argon2id short tag", "$argon2id$v=19$m=64,t=3,p=2$c2l4dGVlbiBieXRlIHNsdA$AAAA"),
		Entry("bcrypt too short", "$2b$04$abc"),
		Entry("bcrypt version 2x", "$2x$04$"+strings.Repeat("a", 53)),
		Entry("bcrypt cost 15", "$2b$15$"+strings.Repeat("a", 53)),
		Entry("mosquitto zero iterations", "$7$0$Z9Z+D+QZSxWwmspm$"+strings.Repeat("A", 86)+"=="),
		Entry("mosquitto 1,000,001 iterations", "$7$1000001$Z9Z+D+QZSxWwmspm$"+strings.Repeat("A", 86)+"=="),
		Entry("mosquitto short hash", "$7$101$Z9Z+D+QZSxWwmspm$AAAA"),
		Entry("mosquitto unpadded hash", "$7$101$Z9Z+D+QZSxWwmspm$"+strings.Repeat("A", 86)),
		Entry("machine upper-case key id", "$hmac-sha256$k=0123456789ABCDEF$"+strings.Repeat("A", 43)),
		Entry("machine short tag", "$hmac-sha256$k=0123456789abcdef$"+strings.Repeat("A", 42)),
		Entry("machine without key id", "$hmac-sha256$"+strings.Repeat("A", 43)),
	)

	It("never holds the password", func() {
		k := mustKey()
		h, err := credential.HashMachine(k, "d", []byte(machinePassword))
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Contains([]byte(h), []byte(machinePassword))).To(BeFalse())
	})
})
