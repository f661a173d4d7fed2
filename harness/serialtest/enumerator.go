package serialtest

import (
	"slices"
	"sync"

	"shakedown/harness"
)

// Enumerator is a harness.Enumerator (and harness.Notifier) over a port list
// the test sets. It is safe for concurrent use.
type Enumerator struct {
	mu      sync.Mutex
	ports   []harness.PortInfo
	changed chan struct{}
	calls   int
}

// NewEnumerator returns an enumerator listing ports.
func NewEnumerator(ports ...harness.PortInfo) *Enumerator {
	return &Enumerator{ports: slices.Clone(ports), changed: make(chan struct{})}
}

// Ports returns the current list.
func (e *Enumerator) Ports() ([]harness.PortInfo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	return slices.Clone(e.ports), nil
}

// Calls returns how many times Ports was called.
func (e *Enumerator) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// Changed is closed at the next change of the list.
func (e *Enumerator) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.changed
}

// Set replaces the list.
func (e *Enumerator) Set(ports ...harness.PortInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ports = slices.Clone(ports)
	e.notify()
}

// Put adds p, replacing a port with the same serial number.
func (e *Enumerator) Put(p harness.PortInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ports = slices.DeleteFunc(e.ports, func(q harness.PortInfo) bool { return q.SerialNumber == p.SerialNumber })
	e.ports = append(e.ports, p)
	e.notify()
}

// Remove drops the port with the serial number.
func (e *Enumerator) Remove(serial string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ports = slices.DeleteFunc(e.ports, func(q harness.PortInfo) bool { return q.SerialNumber == serial })
	e.notify()
}

func (e *Enumerator) notify() {
	close(e.changed)
	e.changed = make(chan struct{})
}
