// Command crashtest writes to a registry until it is killed, for the
// registry's crash tests. It prints a line only after the write it reports
// has returned, so every printed line is a promise the registry must keep
// after a SIGKILL:
//
//	accepted N   AcceptCounter(device, N) returned nil
//	revoked      Revoke(revoke-device) returned nil
//
// Beside the reported writes it keeps other writes in flight (more counter
// writers, imports, last-seen notes), so that the kill lands mid-transaction.
//
//	crashtest -dsn DSN -device ID -start N [-revoke ID]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"shakedown/handshake"
	"shakedown/server/registry"
)

// Workload shape.
const (
	counterWriters = 8   // goroutines accepting counters for the device
	churnBatch     = 100 // devices per churn import
)

func main() {
	dsn := flag.String("dsn", "", "registry DSN")
	device := flag.String("device", "", "device whose counter to advance")
	start := flag.Uint64("start", 1, "first counter to offer")
	revoke := flag.String("revoke", "", "device to revoke before advancing counters")
	flag.Parse()
	if err := run(*dsn, *device, *start, *revoke); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(1)
	}
}

func run(dsn, device string, start uint64, revoke string) error {
	ctx := context.Background()
	reg, err := registry.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer reg.Close()
	if revoke != "" {
		if err := reg.Revoke(ctx, revoke); err != nil {
			return err
		}
		say("revoked")
	}
	errs := make(chan error, counterWriters+1)
	next := new(atomic.Uint64)
	next.Store(start - 1)
	for range counterWriters {
		go func() { errs <- advance(ctx, reg, device, next) }()
	}
	go func() { errs <- churn(ctx, reg) }()
	// The writers stop only on an error; the test kills the process first.
	return <-errs
}

// advance offers increasing counters and reports the accepted ones. Writers
// race each other, so some offers lose to a greater one: those are replays.
func advance(ctx context.Context, reg registry.Registry, device string, next *atomic.Uint64) error {
	for {
		c := next.Add(1)
		err := reg.AcceptCounter(ctx, device, c)
		switch {
		case err == nil:
			say("accepted " + strconv.FormatUint(c, 10))
		case errors.Is(err, handshake.ErrCounterReplay):
		default:
			return err
		}
	}
}

// churn imports throwaway devices and notes last-seen times.
func churn(ctx context.Context, reg registry.Registry) error {
	pid := os.Getpid()
	for round := 0; ; round++ {
		ds := make([]registry.Device, churnBatch)
		for i := range ds {
			id := fmt.Sprintf("churn-%d-%d-%d", pid, round, i)
			key := make([]byte, registry.PSKLen)
			copy(key, id)
			key[len(key)-1] = 1
			ds[i] = registry.Device{ID: id, Profile: handshake.PSK, Key: key}
		}
		if err := reg.ImportDevices(ctx, ds); err != nil {
			return err
		}
		now := time.Now()
		for _, d := range ds {
			reg.TouchLastSeen(d.ID, now)
		}
	}
}

// say writes one line with one write(2), so a line is printed whole or not at all.
func say(line string) {
	os.Stdout.Write([]byte(line + "\n"))
}
