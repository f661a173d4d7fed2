package emulated_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards"
	"shakedown/boards/emulated"
)

var _ = Describe("starting an emulated board", func() {
	It("knows five chips, the AVR by its alias too, and refuses others", func() {
		Expect(emulated.Chips()).To(Equal([]string{"atmega328p", "cortex-m3", "nrf51", "rv32", "stm32f4"}))
		_, err := emulated.Start(context.Background(), emulated.Config{Chip: "z80"})
		Expect(err).To(MatchError(emulated.ErrUnknownChip))
		Expect(emulated.Check("pdp11")).To(MatchError(emulated.ErrUnknownChip))
		_, err = emulated.DefaultImage("8051")
		Expect(err).To(MatchError(emulated.ErrUnknownChip))
	})

	It("says how to build an image that is missing", func() {
		GinkgoT().Setenv(emulated.FirmwareEnv, GinkgoT().TempDir())
		_, err := emulated.DefaultImage("avr")
		Expect(err).To(MatchError(emulated.ErrMissing))
		Expect(err.Error()).To(ContainSubstring("agent-atmega328p.elf"))
		Expect(err.Error()).To(ContainSubstring(emulated.BuildHint))
		// simavr-run lives beside the images: built by the same target.
		err = emulated.Check("atmega328p")
		Expect(err).To(MatchError(emulated.ErrMissing))
		Expect(err.Error()).To(ContainSubstring("simavr-run"))
		Expect(err.Error()).To(ContainSubstring("libsimavr-dev"))
		_, err = emulated.Start(context.Background(), emulated.Config{Chip: "avr"})
		Expect(err).To(MatchError(emulated.ErrMissing))
	})

	It("names the Debian package of an emulator that is not installed", func() {
		GinkgoT().Setenv("PATH", GinkgoT().TempDir())
		err := emulated.Check("cortex-m3")
		Expect(err).To(MatchError(emulated.ErrMissing))
		Expect(err.Error()).To(ContainSubstring("qemu-system-arm"))
		err = emulated.Check("rv32")
		Expect(err).To(MatchError(emulated.ErrMissing))
		Expect(err.Error()).To(ContainSubstring("qemu-system-riscv32"))
		Expect(err.Error()).To(ContainSubstring("qemu-system-misc"))
	})

	It("names a pseudo-terminal and a board profile, and stops the emulator on Close, twice", Label("emulated"), func() {
		requireEmulator("rv32")
		b, err := emulated.Start(ctx(), emulated.Config{Chip: "rv32", Log: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		Expect(b.Path()).To(HavePrefix("/dev/"))
		Expect(b.Chip()).To(Equal("rv32"))
		Expect(b.ProfileName()).To(Equal("qemu-sifive-e"))
		_, err = boards.Lookup(b.ProfileName())
		Expect(err).NotTo(HaveOccurred())
		image, err := emulated.DefaultImage("rv32")
		Expect(err).NotTo(HaveOccurred())
		Expect(b.Image()).To(Equal(image))
		Expect(b.Exited()).NotTo(BeClosed())

		Expect(b.Close()).To(Succeed())
		Expect(b.Exited()).To(BeClosed())
		Expect(b.Close()).To(Succeed())
	})
})
