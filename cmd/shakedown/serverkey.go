package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"shakedown/handshake/noise"
	"shakedown/server/registry"
)

// newServerKeyCmd is `shakedown serverkey`: the server's noise key
// rollover.
func newServerKeyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serverkey",
		Short: "Server noise key rollover: show, announce the next key, promote it",
		Long: `The server's noise static key rolls over without any clock on the devices:

  1. announce: a next key is generated and stored; every handshake's message 2
     now announces it, authenticated, and devices pin it.
  2. wait until the devices have connected (watch 'devices list' LAST SEEN).
  3. promote: the next key becomes current. Devices that connected during
     the announcement already use it; one that never did is locked out.`,
	}
	cmd.AddCommand(newServerKeyShowCmd(), newServerKeyAnnounceCmd(), newServerKeyPromoteCmd())
	return cmd
}

// newServerKeyShowCmd is `shakedown serverkey show`.
func newServerKeyShowCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "show", Short: "Show the server's public keys", Args: cobra.NoArgs}
	cmd.RunE = onRegistry(registryFlag(cmd), func(c *cobra.Command, reg registry.Registry, _ []string) error {
		k, err := reg.ServerKeys(c.Context())
		if err != nil && !errors.Is(err, registry.ErrNoServerKey) {
			return err
		}
		for _, r := range []struct {
			name string
			k    *registry.ServerKey
		}{{"current", k.Current}, {"next", k.Next}, {"previous", k.Previous}} {
			if r.k != nil {
				fmt.Fprintf(c.OutOrStdout(), "%-8s %x  since %s\n", r.name, r.k.Public, r.k.Since.Format(time.RFC3339))
			}
		}
		return nil
	})
	return cmd
}

// newServerKeyAnnounceCmd is `shakedown serverkey announce`.
func newServerKeyAnnounceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "announce", Short: "Generate and announce the next server key", Args: cobra.NoArgs,
		Example: `  shakedown serverkey announce --registry sqlite:shakedown.db`}
	cmd.RunE = onRegistry(registryFlag(cmd), func(c *cobra.Command, reg registry.Registry, _ []string) error {
		kp, err := noise.GenerateKeypair(nil)
		if err != nil {
			return err
		}
		if err := reg.AnnounceNextKey(c.Context(), registry.Keypair{Private: kp.Private, Public: kp.Public}); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "announced next key %x\n", kp.Public)
		return nil
	})
	return cmd
}

// newServerKeyPromoteCmd is `shakedown serverkey promote`.
func newServerKeyPromoteCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "promote", Short: "Make the announced key current", Args: cobra.NoArgs}
	cmd.RunE = onRegistry(registryFlag(cmd), func(c *cobra.Command, reg registry.Registry, _ []string) error {
		if err := reg.PromoteNextKey(c.Context()); err != nil {
			return err
		}
		fmt.Fprintln(c.OutOrStdout(), "promoted the next key to current")
		return nil
	})
	return cmd
}
