package app

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/registry"
)

// grantsRegistry is a registry that knows one device's grants and counts
// the reads of devices.
type grantsRegistry struct {
	registry.Registry
	reads int
}

func (r *grantsRegistry) Device(_ context.Context, id string) (registry.Device, error) {
	r.reads++
	if id != "d1" {
		return registry.Device{}, fmt.Errorf("test: %w", handshake.ErrUnknownDevice)
	}
	return registry.Device{ID: id, Grants: []string{"fleet/d1/#"}}, nil
}

var _ = Describe("the grants of a device", func() {
	cfg := map[string][]string{"*": {"broadcast/#"}, "d1": {"extra/d1"}}

	It("reads a registered device's grants once, and gives them with the configuration's every time", func() {
		reg := &grantsRegistry{}
		grants := grantsFunc(context.Background(), reg, cfg, server.NewMemo[string, []string](10))
		for range 3 {
			Expect(grants("d1")).To(Equal([]string{"broadcast/#", "extra/d1", "fleet/d1/#"}))
		}
		Expect(reg.reads).To(Equal(1))
	})

	It("asks again for an ID the registry does not know", func() {
		reg := &grantsRegistry{}
		grants := grantsFunc(context.Background(), reg, cfg, server.NewMemo[string, []string](10))
		for range 3 {
			Expect(grants("d2")).To(Equal([]string{"broadcast/#"}))
		}
		Expect(reg.reads).To(Equal(3))
	})
})
