//go:build !linux

package virtual

import (
	"errors"
	"os"
)

func openPTY() (master, slave *os.File, err error) {
	return nil, nil, errors.New("virtual: the virtual board needs Linux pseudo-terminals")
}
