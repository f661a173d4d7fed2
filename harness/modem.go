package harness

import (
	"errors"
	"fmt"
	"syscall"

	"go.bug.st/serial"
)

// modemErr classifies a failed DTR/RTS change: a tty without modem control
// (a pseudo-terminal) answers ENOTTY or EINVAL to TIOCMGET/TIOCMSET.
func modemErr(err error) error {
	var pe *serial.PortError
	if errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EINVAL) ||
		(errors.As(err, &pe) && pe.Code() == serial.FunctionNotImplemented) {
		return fmt.Errorf("%w: %w", ErrNoModemLines, err)
	}
	return fmt.Errorf("harness: setting a modem line: %w", err)
}
