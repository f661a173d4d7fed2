package credential_test

import (
	"testing"

	"shakedown/server/credential"
)

// The cost of one CONNECT password check per scheme. An unknown device
// runs the dummy machine hash: its cost must match BenchmarkCheckMachine.

func benchCheck(b *testing.B, id, stored string, password []byte) {
	k, err := credential.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	if stored == "machine" {
		if stored, err = credential.HashMachine(k, id, password); err != nil {
			b.Fatal(err)
		}
	}
	c, err := credential.NewChecker(k, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Check(id, stored, password)
	}
}

func BenchmarkCheckMachine(b *testing.B) {
	benchCheck(b, "meter-9", "machine", []byte(machinePassword))
}

func BenchmarkCheckUnknown(b *testing.B) {
	benchCheck(b, "meter-9", "", []byte(machinePassword))
}

func BenchmarkCheckArgon2id(b *testing.B) {
	h, err := credential.HashArgon2id([]byte("correct horse battery staple"))
	if err != nil {
		b.Fatal(err)
	}
	benchCheck(b, "u", h, []byte("a wrong guess"))
}

func BenchmarkCheckMosquitto(b *testing.B) {
	benchCheck(b, "meter-9", "$7$101$Z9Z+D+QZSxWwmspm$60IJAaT2BfLRFsrE2LOIWCc4qN8qd5sJV6VGvPTgCWtXZl8+3opJ6COGbZkorda+p245uQ2OELJQ45W2NMgZjw==", []byte("a wrong guess"))
}
