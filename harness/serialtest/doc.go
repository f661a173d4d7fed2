// Package serialtest holds test doubles for package harness: an Enumerator
// whose port list a test controls (a pseudo-terminal has no USB ids, so a
// test gives each one a serial number) and a Port that records modem-line
// changes.
//
//	enum := serialtest.NewEnumerator()
//	enum.Put(harness.PortInfo{Name: vb.Path(), SerialNumber: "VB-1"})
//	b, err := harness.Open(ctx, vb.Path(), harness.Options{Enumerator: enum})
//	// the board re-enumerates under another name:
//	enum.Put(harness.PortInfo{Name: vb.Path(), SerialNumber: "VB-1"})
package serialtest
