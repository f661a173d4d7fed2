package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"shakedown/fixtures"
)

// newFixturesCmd is `shakedown fixtures`.
func newFixturesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "fixtures", Short: "Key material for tests and demonstrations"}
	cmd.AddCommand(newFixturesGenCmd())
	return cmd
}

// newFixturesGenCmd is `shakedown fixtures gen`.
func newFixturesGenCmd() *cobra.Command {
	var o fixtures.Options
	var now string
	gen := &cobra.Command{
		Use:   "gen DIR",
		Short: "Generate a deterministic fixture set into DIR",
		Long: `Generate key material for tests and demonstrations: the server's Noise static
keys (current and next), device identities for every profile, a test CA, the
broker certificate, a renewed and a rolled-over broker certificate, an expired
CA-signed certificate and an attacker's self-signed certificate.

Everything derives from --seed: the same seed and --now give the same bytes.
The key material is public by construction; never deploy it.`,
		Example: `  shakedown fixtures gen out/fixtures --seed demo --devices 10
  shakedown fixtures gen testdata/fx --seed ci --now 2026-01-01T00:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return usageErrorf("--now: want RFC 3339, such as 2026-01-01T00:00:00Z: %w", err)
				}
				o.Now = t
			}
			m, err := fixtures.Generate(args[0], o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files and %d devices to %s (manifest: %s)\n",
				len(m.Files), len(m.Devices), args[0], fixtures.ManifestName)
			return nil
		},
	}
	gen.Flags().StringVar(&o.Seed, "seed", "shakedown", "the seed every key derives from")
	gen.Flags().IntVar(&o.DevicesPerProfile, "devices", fixtures.DefaultDevicesPerProfile, "devices per profile")
	gen.Flags().IntVar(&o.NoiseDevices, "noise-devices", 0, fmt.Sprintf("noise devices in place of --devices, up to %d (a fleet-scale set)", fixtures.MaxNoiseDevices))
	gen.Flags().StringVar(&now, "now", "", "anchor of certificate validity, RFC 3339 (default: today 00:00 UTC)")
	gen.Flags().StringVar(&o.ServerName, "server-name", "", "the broker's DNS name (default localhost)")
	gen.Flags().BoolVar(&o.Force, "force", false, "write into a non-empty directory")
	return gen
}
