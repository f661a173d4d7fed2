package emulated_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/boards/emulated"
	"shakedown/reports"
)

// testdata/bench-CHIP.txt is what `emu/board.sh run CHIP IMAGE` printed
// for the benchmark image of each chip (make -C boards/firmware chips),
// the AVR's "mark" lines from simavr-run included.
func benchOutput(chip string) []byte {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join("testdata", "bench-"+chip+".txt"))
	Expect(err).NotTo(HaveOccurred())
	return b
}

// expectRefused holds err to a refusal: an *emulated.Error wrapping
// want, that quotes nothing of the output.
func expectRefused(err, want error) {
	GinkgoHelper()
	Expect(err).To(MatchError(want))
	var e *emulated.Error
	Expect(errors.As(err, &e)).To(BeTrue())
	Expect(err.Error()).NotTo(ContainSubstring("<script>"))
}

// benchWant is what a chip's benchmark output says, read by eye.
type benchWant struct {
	board, chip, unit string
	clockHz           uint32
	x25519, stack     int
	p256              float64
}

var _ = Describe("the benchmark program's output", func() {
	DescribeTable("of each chip, as emu/board.sh printed it",
		func(chip string, w benchWant) {
			rb, err := emulated.ParseBench(chip, benchOutput(chip))
			Expect(err).NotTo(HaveOccurred())
			Expect(rb.Name).To(Equal(chip))
			Expect(rb.Board).To(Equal(w.board))
			Expect(rb.Chip).To(Equal(w.chip))
			Expect(rb.Kind).To(Equal(reports.KindEmulated))
			Expect(rb.Exact).To(BeTrue())
			Expect(rb.ClockHz).To(Equal(w.clockHz))
			var ops []string
			for _, b := range rb.Bench {
				ops = append(ops, b.Op)
				Expect(b.Unit).To(Equal(w.unit))
			}
			Expect(ops).To(Equal([]string{"x25519", "x25519_base", "ecdh_p256", "ecdh_secp160r1",
				"aead_64", "aead_256", "aead_per_byte_x100", "sha256_64"}))
			Expect(rb.Bench[0].Mean).To(BeNumerically("==", w.x25519))
			Expect(rb.Bench[0].StackBytes).To(Equal(w.stack))
			Expect(rb.Bench[2].Mean).To(BeNumerically("==", w.p256))
		},
		Entry("atmega328p: cycles at 16 MHz", "atmega328p", benchWant{board: "ATmega328P under simavr (16 MHz)",
			chip: "ATmega328P", unit: "cycles", clockHz: 16_000_000, x25519: 15895367, stack: 655, p256: 39104383}),
		Entry("cortex-m3: instructions", "cortex-m3", benchWant{board: "Cortex-M3 under QEMU mps2-an385",
			chip: "Cortex-M3 (QEMU mps2-an385)", unit: "instructions", x25519: 3953160, stack: 608, p256: 8774560}),
		Entry("nrf51: instructions", "nrf51", benchWant{board: "nRF51822 (Cortex-M0) under QEMU microbit",
			chip: "nRF51822 (QEMU microbit)", unit: "instructions", x25519: 10212812, stack: 604, p256: 22650875}),
		Entry("rv32: instructions", "rv32", benchWant{board: "RV32IMAC under QEMU sifive_e",
			chip: "RV32IMAC (QEMU sifive_e)", unit: "instructions", x25519: 4541920, stack: 560, p256: 10786808}),
		Entry("stm32f4: instructions", "stm32f4", benchWant{board: "STM32F405 under QEMU netduinoplus2",
			chip: "STM32F405 (QEMU netduinoplus2)", unit: "instructions", x25519: 3911232, stack: 600, p256: 8824502}),
	)

	It("reads a chip by its alias, and the lines a serial port ends with CR LF", func() {
		crlf := strings.ReplaceAll(string(benchOutput("atmega328p")), "\n", "\r\n")
		rb, err := emulated.ParseBench("avr", []byte(crlf))
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Name).To(Equal("atmega328p"))
		Expect(rb.Bench).To(HaveLen(8))
	})

	DescribeTable("refuses a line the program did not print, without quoting it",
		func(line, altered string, want error) {
			out := string(benchOutput("rv32"))
			Expect(out).To(ContainSubstring(line))
			_, err := emulated.ParseBench("rv32", []byte(strings.Replace(out, line, altered, 1)))
			expectRefused(err, want)
		},
		Entry("a result the program found wrong", "ecdh_p256 10786808 952 ok", "ecdh_p256 10786808 952 WRONG", emulated.ErrBenchWrong),
		Entry("a count that is not a number", "x25519 4541920", "x25519 <script>", emulated.ErrBenchOutput),
		Entry("a count beyond 64 bits", "x25519 4541920", "x25519 18446744073709551616", emulated.ErrBenchOutput),
		Entry("an operation's name that is no word", "bench x25519 ", "bench <script> ", emulated.ErrBenchOutput),
		Entry("a verdict neither ok nor WRONG", "952 ok", "952 <script>", emulated.ErrBenchOutput),
		Entry("a field too many", "560 ok", "560 1 ok", emulated.ErrBenchOutput),
		Entry("a unit that is no word", "unit instructions", "unit <script>", emulated.ErrBenchOutput),
		Entry("a chip name of a page", "chip RV32IMAC", "chip "+strings.Repeat("RV32 ", 20), emulated.ErrBenchOutput),
	)

	It("refuses output without its chip line or without figures", func() {
		chipLine, figures, _ := strings.Cut(string(benchOutput("rv32")), "\n")
		for _, out := range []string{"", figures, chipLine + "\n"} {
			_, err := emulated.ParseBench("rv32", []byte(out))
			expectRefused(err, emulated.ErrBenchOutput)
		}
	})

	It("knows the benchmark image of each chip, and no other chip's", func() {
		for _, chip := range emulated.Chips() {
			image, err := emulated.BenchImage(chip)
			Expect(err).NotTo(HaveOccurred())
			Expect(image).To(HaveSuffix("bench.elf"))
		}
		_, err := emulated.BenchImage("z80")
		Expect(err).To(MatchError(emulated.ErrUnknownChip))
		_, err = emulated.ParseBench("z80", benchOutput("rv32"))
		Expect(err).To(MatchError(emulated.ErrUnknownChip))
	})

	It("runs the benchmark on the RV32 chip and reads its exact counts", Label("emulated"), func() {
		fw := filepath.Join("..", "firmware")
		image, err := emulated.BenchImage("rv32")
		Expect(err).NotTo(HaveOccurred())
		if _, err := exec.LookPath("qemu-system-riscv32"); err != nil {
			Skip("qemu-system-riscv32 is not installed (Debian: qemu-system-misc)")
		}
		if _, err := os.Stat(filepath.Join(fw, image)); err != nil {
			Skip("the benchmark image is not built: make -C boards/firmware chips")
		}
		rb, err := emulated.RunBench(ctx(), fw, "rv32")
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Chip).To(Equal("RV32IMAC (QEMU sifive_e)"))
		Expect(rb.Bench).To(HaveLen(8))
		for _, b := range rb.Bench {
			Expect(b.Unit).To(Equal("instructions"))
			if b.Op != "aead_per_byte_x100" { // a slope: it has no stack of its own
				Expect(b.Mean).To(BeNumerically(">", 0), b.Op)
				Expect(b.StackBytes).To(BeNumerically(">", 0), b.Op)
			}
		}
	})
})

// FuzzParseBench: any output is read or refused, never a panic, and a
// refusal is an *emulated.Error.
func FuzzParseBench(f *testing.F) {
	for _, chip := range emulated.Chips() {
		b, err := os.ReadFile(filepath.Join("testdata", "bench-"+chip+".txt"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(chip, b)
	}
	f.Fuzz(func(t *testing.T, chip string, out []byte) {
		rb, err := emulated.ParseBench(chip, out)
		var e *emulated.Error
		switch {
		case err != nil && !errors.As(err, &e):
			t.Fatalf("not an *emulated.Error: %v", err)
		case err == nil && (rb.Chip == "" || len(rb.Bench) == 0):
			t.Fatalf("accepted without a chip line and figures: %+v", rb)
		}
	})
}
