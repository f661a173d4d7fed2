package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"shakedown/fixtures"
	"shakedown/handshake"
	"shakedown/server/credential"
	"shakedown/server/registry"
)

// registryFlag adds --registry to a command.
func registryFlag(cmd *cobra.Command) *string {
	return cmd.Flags().String("registry", "sqlite:shakedown.db", "registry DSN: sqlite:PATH or postgres://...")
}

// openRegistry opens the registry of dsn, creating an SQLite file that is
// not there: for the commands that build a registry (serve, devices add,
// devices import).
func openRegistry(ctx context.Context, dsn string) (registry.Registry, error) {
	reg, err := registry.Open(ctx, dsn)
	if err != nil {
		return nil, setupError(fmt.Errorf("opening the registry: %w", err))
	}
	return reg, nil
}

// openExistingRegistry opens a registry that must exist: a command that
// reads or administers one never creates an empty SQLite file where a
// --registry was mistyped or left out.
func openExistingRegistry(ctx context.Context, dsn string) (registry.Registry, error) {
	if path, ok := sqlitePath(dsn); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, setupError(fmt.Errorf("opening the registry: no SQLite registry at %s (check --registry; serve, devices add and devices import create one): %w", path, err))
		}
	}
	return openRegistry(ctx, dsn)
}

// sqlitePath is the file of an SQLite registry DSN (sqlite:PATH,
// sqlite://PATH or a bare path), as the registry reads it.
func sqlitePath(dsn string) (string, bool) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "", false
	}
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if ok {
		path = strings.TrimPrefix(path, "//")
	} else if strings.Contains(dsn, "://") {
		return "", false
	}
	return path, path != ""
}

// importFixtures registers every device of a fixture set that is missing,
// and makes the set's current noise key the server key when there is none.
func importFixtures(ctx context.Context, dsn string, set *fixtures.Set, w io.Writer) error {
	return importFixtureProfiles(ctx, dsn, set, nil, w)
}

// importFixtureProfiles is importFixtures for the devices of the given
// profiles only (all when empty).
func importFixtureProfiles(ctx context.Context, dsn string, set *fixtures.Set, profiles []handshake.Name, w io.Writer) error {
	reg, err := openRegistry(ctx, dsn)
	if err != nil {
		return err
	}
	defer reg.Close()
	pwKey, err := reg.PasswordKey(ctx)
	if err != nil {
		return err
	}
	added, skipped := 0, 0
	for _, d := range set.Devices {
		if len(profiles) > 0 && !slices.Contains(profiles, d.Profile) {
			skipped++
			continue
		}
		rd, err := registryDevice(d, pwKey)
		if err != nil {
			return err
		}
		switch err := reg.AddDevice(ctx, rd); {
		case errors.Is(err, registry.ErrExists):
		case err != nil:
			return fmt.Errorf("registering %s: %w", d.ID, err)
		default:
			added++
		}
	}
	keys, err := reg.ServerKeys(ctx)
	if errors.Is(err, registry.ErrNoServerKey) || (err == nil && keys.Current == nil) {
		if err := reg.AnnounceNextKey(ctx, registry.Keypair{Private: set.NoiseCurrent.Private, Public: set.NoiseCurrent.Public}); err != nil {
			return fmt.Errorf("setting the server key: %w", err)
		}
		if err := reg.PromoteNextKey(ctx); err != nil {
			return fmt.Errorf("setting the server key: %w", err)
		}
		fmt.Fprintf(w, "server noise key set from the fixtures: %x\n", set.NoiseCurrent.Public)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(w, "registry: %d fixture devices added, %d already present\n", added, len(set.Devices)-added-skipped)
	return nil
}

// registryDevice converts a fixture device to a registry record. A tls
// device gets both its credentials: the pin of its client certificate and
// its machine password, hashed under the registry's password key.
func registryDevice(d fixtures.Device, pwKey []byte) (registry.Device, error) {
	rd := registry.Device{ID: d.ID, Profile: d.Profile, Curve: d.Curve, State: registry.Active, Key: d.Record().Key}
	if d.Profile == handshake.TLS {
		h, err := credential.HashMachine(pwKey, d.ID, []byte(d.Password()))
		if err != nil {
			return rd, err
		}
		rd.PasswordHash = h
	}
	return rd, nil
}

// onRegistry is the RunE of a command that reads or administers an
// existing registry: it opens the registry of *dsn, runs f on it and
// closes it.
func onRegistry(dsn *string, f func(c *cobra.Command, reg registry.Registry, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		reg, err := openExistingRegistry(c.Context(), *dsn)
		if err != nil {
			return err
		}
		defer reg.Close()
		return f(c, reg, args)
	}
}

// importDevices registers ds in the registry of dsn, in one transaction.
func importDevices(ctx context.Context, dsn string, ds []registry.Device) error {
	reg, err := openRegistry(ctx, dsn)
	if err != nil {
		return err
	}
	defer reg.Close()
	return reg.ImportDevices(ctx, ds)
}

// newDevicesCmd is `shakedown devices`.
func newDevicesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Administer the device registry: add, import, list, revoke, export",
		Long: `Administer the registry that the server's handshakes read. Changes are durable
when a command returns and are seen by running servers at the next handshake.`,
	}
	cmd.AddCommand(newDevicesAddCmd(), newDevicesImportCmd(), newDevicesListCmd(), newDevicesRevokeCmd(),
		newDevicesExportCmd(), newResetCounterCmd())
	return cmd
}

// deviceAddOptions are the flags of `devices add`.
type deviceAddOptions struct {
	dsn                                            *string
	profile, curve, key, cert, out, pwFile, pwHash string
	grants                                         []string
}

// newDevicesAddCmd is `shakedown devices add`.
func newDevicesAddCmd() *cobra.Command {
	var o deviceAddOptions
	cmd := &cobra.Command{
		Use:   "add ID",
		Short: "Register one device",
		Long: `Register one device. ID is 1 to 128 letters, digits, '.', '_', '-' or ':': it is
the device's MQTT client ID and one topic level of its namespace, devices/ID/...

A tls device proves itself with a client certificate (mutual TLS, the default)
or an MQTT password:

  (no credential flag)   make an Ed25519 key and a self-signed certificate for
                         the device in --out (ID.key, ID.crt) and register the
                         certificate's pin, SHA-256 of its SubjectPublicKeyInfo
  --cert FILE            register the pin of this certificate (PEM), from any CA
  --password-file FILE   a machine-generated password, at least 16 bytes: stored
                         as HMAC-SHA-256 under the registry's password key
  --password-hash HASH   an imported hash of a human-chosen password (argon2id,
                         bcrypt, mosquitto $7$): checked in few slots at a time

The server checks no certificate date and no CA: revoking the device revokes
its certificate.`,
		Example: `  # --key: the device's X25519 public key (noise), its point (seed) or the pre-shared key (psk), in hex
  shakedown devices add sensor-17 --profile noise --key 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a
  shakedown devices add legacy-1 --profile psk --key 5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb
  # tls: a new key and certificate written to keys/ (mutual TLS), the pin of your own certificate, or a password
  shakedown devices add meter-9 --profile tls --out keys/ --grant fleet/broadcast
  shakedown devices add meter-10 --profile tls --cert meter-10.crt
  shakedown devices add meter-11 --profile tls --password-file meter-11.pw`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runDevicesAdd(c, args[0], o) },
	}
	o.dsn = registryFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "noise", "noise, seed, psk or tls")
	f.StringVar(&o.curve, "curve", "", "seed: p256 or secp160r1")
	f.StringVar(&o.key, "key", "", "key material in hex (noise: public key; seed: uncompressed point; psk: the key; tls: the certificate pin)")
	f.StringVar(&o.cert, "cert", "", "tls: the device's client certificate (PEM); its pin is registered")
	f.StringVar(&o.out, "out", ".", "tls without a credential flag: where the new key and certificate are written")
	f.StringVar(&o.pwFile, "password-file", "", "tls: file holding the device's machine-generated MQTT password")
	f.StringVar(&o.pwHash, "password-hash", "", "tls: an imported password hash (argon2id, bcrypt or mosquitto $7$)")
	f.StringSliceVar(&o.grants, "grant", nil, "extra topic filter the device may use (repeatable)")
	return cmd
}

// runDevicesAdd registers the device id of `devices add`.
func runDevicesAdd(c *cobra.Command, id string, o deviceAddOptions) error {
	if err := handshake.CheckDeviceID(id); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("device ID %q: %w", id, err)}
	}
	p, err := handshake.ParseName(o.profile)
	if err != nil {
		return err
	}
	d := registry.Device{ID: id, Profile: p, Curve: o.curve, State: registry.Active, Grants: o.grants}
	if p != handshake.TLS && (o.cert != "" || o.pwFile != "" || o.pwHash != "") {
		return errors.New("--cert, --password-file and --password-hash are for tls devices")
	}
	if o.key != "" || p != handshake.TLS {
		if d.Key, err = hex.DecodeString(o.key); err != nil || len(d.Key) == 0 {
			return errors.New("--key: want the key material in hex")
		}
	}
	reg, err := openRegistry(c.Context(), *o.dsn)
	if err != nil {
		return err
	}
	defer reg.Close()
	var made []string
	if p == handshake.TLS {
		if made, err = tlsCredentials(c.Context(), reg, &d, o.cert, o.pwFile, o.pwHash, o.out); err != nil {
			return err
		}
	}
	if err := reg.AddDevice(c.Context(), d); err != nil {
		for _, f := range made {
			os.Remove(f)
		}
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "registered %s (%s)\n", d.ID, d.Profile)
	for _, f := range made {
		fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", f)
	}
	return nil
}

// deviceImportOptions are the flags of `devices import`.
type deviceImportOptions struct {
	dsn                 *string
	fixtures, mosquitto string
	profiles            []string
}

// newDevicesImportCmd is `shakedown devices import`.
func newDevicesImportCmd() *cobra.Command {
	var o deviceImportOptions
	cmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Register devices from JSON lines (the output of export) or from a fixture set",
		Example: `  shakedown devices export --registry old.db > fleet.jsonl && shakedown devices import fleet.jsonl
  shakedown devices import --fixtures out/fixtures
  shakedown devices import --mosquitto passwd   # a file mosquitto_passwd wrote`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runDevicesImport(c, args, o) },
	}
	o.dsn = registryFlag(cmd)
	cmd.Flags().StringVar(&o.fixtures, "fixtures", "", "import every device of this fixture set (and its server key when none is set)")
	cmd.Flags().StringSliceVar(&o.profiles, "profiles", nil, "with --fixtures: only the devices of these profiles (noise, seed, psk, tls)")
	cmd.Flags().StringVar(&o.mosquitto, "mosquitto", "", "import the accounts of this mosquitto password file as tls devices (their human passwords stay slow hashes)")
	return cmd
}

// runDevicesImport imports what the flags and args of `devices import`
// name: a mosquitto password file, a fixture set, or JSON lines from a
// file or standard input.
func runDevicesImport(c *cobra.Command, args []string, o deviceImportOptions) error {
	ctx, out := c.Context(), c.OutOrStdout()
	switch {
	case o.mosquitto != "":
		if o.fixtures != "" || len(args) > 0 {
			return errors.New("--mosquitto goes alone")
		}
		return importMosquitto(ctx, *o.dsn, o.mosquitto, out)
	case o.fixtures != "":
		set, err := fixtures.Load(o.fixtures)
		if err != nil {
			return err
		}
		var ps []handshake.Name
		for _, p := range o.profiles {
			n, err := handshake.ParseName(p)
			if err != nil {
				return fmt.Errorf("--profiles: %w", err)
			}
			ps = append(ps, n)
		}
		return importFixtureProfiles(ctx, *o.dsn, set, ps, out)
	case len(o.profiles) > 0:
		return errors.New("--profiles goes with --fixtures")
	}
	in := io.Reader(os.Stdin)
	if len(args) == 1 {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	ds, err := readDeviceLines(in)
	if err != nil {
		return err
	}
	if err := importDevices(ctx, *o.dsn, ds); err != nil {
		return err
	}
	fmt.Fprintf(out, "imported %d devices\n", len(ds))
	return nil
}

// readDeviceLines reads devices as JSON lines, the output of `devices
// export`; blank lines are passed over.
func readDeviceLines(in io.Reader) ([]registry.Device, error) {
	var ds []registry.Device
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d registry.Device
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := handshake.CheckDeviceID(d.ID); err != nil {
			return nil, &exitError{code: 2, err: fmt.Errorf("line %d: device ID %q: %w", line, d.ID, err)}
		}
		ds = append(ds, d)
	}
	return ds, sc.Err()
}

// newDevicesListCmd is `shakedown devices list`.
func newDevicesListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List devices",
		Example: `  shakedown devices list --profile noise --state revoked`,
		Args:    cobra.NoArgs,
	}
	dsn := registryFlag(cmd)
	profile := cmd.Flags().String("profile", "", "only this profile")
	state := cmd.Flags().String("state", "", "only active or revoked devices")
	cmd.RunE = onRegistry(dsn, func(c *cobra.Command, reg registry.Registry, _ []string) error {
		tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPROFILE\tSTATE\tCOUNTER\tLAST SEEN")
		err := reg.ExportDevices(c.Context(), registry.ListOptions{Profile: handshake.Name(*profile), State: registry.State(*state)}, func(d registry.Device) error {
			seen := "never"
			if !d.LastSeen.IsZero() {
				seen = d.LastSeen.Format(time.RFC3339)
			}
			_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", d.ID, d.Profile, d.State, d.Counter, seen)
			return err
		})
		if err != nil {
			return err
		}
		return tw.Flush()
	})
	return cmd
}

// newDevicesRevokeCmd is `shakedown devices revoke`.
func newDevicesRevokeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "revoke ID...",
		Short:   "Revoke devices: refused at their next handshake, for good",
		Example: `  shakedown devices revoke sensor-17`,
		Args:    cobra.MinimumNArgs(1),
	}
	cmd.RunE = onRegistry(registryFlag(cmd), func(c *cobra.Command, reg registry.Registry, args []string) error {
		for _, id := range args {
			if err := reg.Revoke(c.Context(), id); err != nil {
				return fmt.Errorf("revoking %s: %w", id, err)
			}
			fmt.Fprintf(c.OutOrStdout(), "revoked %s\n", id)
		}
		return nil
	})
	return cmd
}

// newDevicesExportCmd is `shakedown devices export`.
func newDevicesExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "export",
		Short:   "Write every device as JSON lines (input for import)",
		Example: `  shakedown devices export --registry postgres://gw@db/shakedown > fleet.jsonl`,
		Args:    cobra.NoArgs,
	}
	cmd.RunE = onRegistry(registryFlag(cmd), func(c *cobra.Command, reg registry.Registry, _ []string) error {
		enc := json.NewEncoder(c.OutOrStdout())
		return reg.ExportDevices(c.Context(), registry.ListOptions{}, func(d registry.Device) error { return enc.Encode(d) })
	})
	return cmd
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
