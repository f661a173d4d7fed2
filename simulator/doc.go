// Package simulator runs simulated devices: paho.mqtt.golang clients whose
// network connection is the device side of a shakedown handshake profile.
//
//	c, err := simulator.Connect(ctx, simulator.ClientConfig{
//		Device: dev, Addr: "gw:8885", ClientID: "noise-0001",
//	})
//	c.Publish("devices/noise-0001/telemetry", 1, false, payload).Wait()
package simulator
