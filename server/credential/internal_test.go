package credential

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the slow-hash slots", func() {
	It("refuse a slow hash at once while every slot is taken, and never a machine one", func() {
		k, err := NewKey()
		Expect(err).NotTo(HaveOccurred())
		c, err := NewChecker(k, 1)
		Expect(err).NotTo(HaveOccurred())
		slow, err := HashArgon2id([]byte("correct horse battery staple"))
		Expect(err).NotTo(HaveOccurred())
		machine, err := HashMachine(k, "m", []byte("n3w6D0mWk1mJ1p7Yv4o2xQkJ8m3N0b5Z6c9VfT1qR2s"))
		Expect(err).NotTo(HaveOccurred())

		c.slots <- struct{}{} // a slow check in progress
		scheme, err := c.Check("u", slow, []byte("correct horse battery staple"))
		Expect(err).To(MatchError(ErrBusy))
		Expect(scheme).To(Equal(SchemeArgon2id))
		Expect(c.Check("m", machine, []byte("n3w6D0mWk1mJ1p7Yv4o2xQkJ8m3N0b5Z6c9VfT1qR2s"))).To(Equal(SchemeHMAC))
		<-c.slots

		Expect(c.Check("u", slow, []byte("correct horse battery staple"))).To(Equal(SchemeArgon2id))
		Expect(c.slots).To(BeEmpty(), "the check gave its slot back")
	})
})
