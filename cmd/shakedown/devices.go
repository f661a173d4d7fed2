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
	"shakedown/handshake/noise"
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

func init() {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Administer the device registry: add, import, list, revoke, export",
		Long: `Administer the registry that the server's handshakes read. Changes are durable
when a command returns and are seen by running servers at the next handshake.`,
	}

	add := &cobra.Command{
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
	}
	addDSN := registryFlag(add)
	profile := add.Flags().String("profile", "noise", "noise, seed, psk or tls")
	curve := add.Flags().String("curve", "", "seed: p256 or secp160r1")
	keyHex := add.Flags().String("key", "", "key material in hex (noise: public key; seed: uncompressed point; psk: the key; tls: the certificate pin)")
	certFile := add.Flags().String("cert", "", "tls: the device's client certificate (PEM); its pin is registered")
	outDir := add.Flags().String("out", ".", "tls without a credential flag: where the new key and certificate are written")
	pwFile := add.Flags().String("password-file", "", "tls: file holding the device's machine-generated MQTT password")
	pwHash := add.Flags().String("password-hash", "", "tls: an imported password hash (argon2id, bcrypt or mosquitto $7$)")
	grants := add.Flags().StringSlice("grant", nil, "extra topic filter the device may use (repeatable)")
	add.RunE = func(c *cobra.Command, args []string) error {
		if err := handshake.CheckDeviceID(args[0]); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("device ID %q: %w", args[0], err)}
		}
		p, err := handshake.ParseName(*profile)
		if err != nil {
			return err
		}
		d := registry.Device{ID: args[0], Profile: p, Curve: *curve, State: registry.Active, Grants: *grants}
		if p != handshake.TLS && (*certFile != "" || *pwFile != "" || *pwHash != "") {
			return errors.New("--cert, --password-file and --password-hash are for tls devices")
		}
		if *keyHex != "" || p != handshake.TLS {
			if d.Key, err = hex.DecodeString(*keyHex); err != nil || len(d.Key) == 0 {
				return errors.New("--key: want the key material in hex")
			}
		}
		reg, err := openRegistry(c.Context(), *addDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		var made []string
		if p == handshake.TLS {
			if made, err = tlsCredentials(c.Context(), reg, &d, *certFile, *pwFile, *pwHash, *outDir); err != nil {
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

	imp := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Register devices from JSON lines (the output of export) or from a fixture set",
		Example: `  shakedown devices export --registry old.db > fleet.jsonl && shakedown devices import fleet.jsonl
  shakedown devices import --fixtures out/fixtures
  shakedown devices import --mosquitto passwd   # a file mosquitto_passwd wrote`,
		Args: cobra.MaximumNArgs(1),
	}
	impDSN := registryFlag(imp)
	impFixtures := imp.Flags().String("fixtures", "", "import every device of this fixture set (and its server key when none is set)")
	impProfiles := imp.Flags().StringSlice("profiles", nil, "with --fixtures: only the devices of these profiles (noise, seed, psk, tls)")
	impMosquitto := imp.Flags().String("mosquitto", "", "import the accounts of this mosquitto password file as tls devices (their human passwords stay slow hashes)")
	imp.RunE = func(c *cobra.Command, args []string) error {
		if *impMosquitto != "" {
			if *impFixtures != "" || len(args) > 0 {
				return errors.New("--mosquitto goes alone")
			}
			return importMosquitto(c.Context(), *impDSN, *impMosquitto, c.OutOrStdout())
		}
		if *impFixtures != "" {
			set, err := fixtures.Load(*impFixtures)
			if err != nil {
				return err
			}
			var ps []handshake.Name
			for _, p := range *impProfiles {
				n, err := handshake.ParseName(p)
				if err != nil {
					return fmt.Errorf("--profiles: %w", err)
				}
				ps = append(ps, n)
			}
			return importFixtureProfiles(c.Context(), *impDSN, set, ps, c.OutOrStdout())
		}
		if len(*impProfiles) > 0 {
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
		var ds []registry.Device
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for line := 1; sc.Scan(); line++ {
			if len(sc.Bytes()) == 0 {
				continue
			}
			var d registry.Device
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			if err := handshake.CheckDeviceID(d.ID); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("line %d: device ID %q: %w", line, d.ID, err)}
			}
			ds = append(ds, d)
		}
		if err := sc.Err(); err != nil {
			return err
		}
		reg, err := openRegistry(c.Context(), *impDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		if err := reg.ImportDevices(c.Context(), ds); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "imported %d devices\n", len(ds))
		return nil
	}

	list := &cobra.Command{
		Use:     "list",
		Short:   "List devices",
		Example: `  shakedown devices list --profile noise --state revoked`,
		Args:    cobra.NoArgs,
	}
	listDSN := registryFlag(list)
	lp := list.Flags().String("profile", "", "only this profile")
	ls := list.Flags().String("state", "", "only active or revoked devices")
	list.RunE = func(c *cobra.Command, _ []string) error {
		reg, err := openExistingRegistry(c.Context(), *listDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPROFILE\tSTATE\tCOUNTER\tLAST SEEN")
		err = reg.ExportDevices(c.Context(), registry.ListOptions{Profile: handshake.Name(*lp), State: registry.State(*ls)}, func(d registry.Device) error {
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
	}

	revoke := &cobra.Command{
		Use:     "revoke ID...",
		Short:   "Revoke devices: refused at their next handshake, for good",
		Example: `  shakedown devices revoke sensor-17`,
		Args:    cobra.MinimumNArgs(1),
	}
	revDSN := registryFlag(revoke)
	revoke.RunE = func(c *cobra.Command, args []string) error {
		reg, err := openExistingRegistry(c.Context(), *revDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		for _, id := range args {
			if err := reg.Revoke(c.Context(), id); err != nil {
				return fmt.Errorf("revoking %s: %w", id, err)
			}
			fmt.Fprintf(c.OutOrStdout(), "revoked %s\n", id)
		}
		return nil
	}

	export := &cobra.Command{
		Use:     "export",
		Short:   "Write every device as JSON lines (input for import)",
		Example: `  shakedown devices export --registry postgres://gw@db/shakedown > fleet.jsonl`,
		Args:    cobra.NoArgs,
	}
	expDSN := registryFlag(export)
	export.RunE = func(c *cobra.Command, _ []string) error {
		reg, err := openExistingRegistry(c.Context(), *expDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		enc := json.NewEncoder(c.OutOrStdout())
		return reg.ExportDevices(c.Context(), registry.ListOptions{}, func(d registry.Device) error { return enc.Encode(d) })
	}
	cmd.AddCommand(add, imp, list, revoke, export, resetCounterCommand())
	root.AddCommand(cmd)

	sk := &cobra.Command{
		Use:   "serverkey",
		Short: "Server noise key rollover: show, announce the next key, promote it",
		Long: `The server's noise static key rolls over without any clock on the devices:

  1. announce: a next key is generated and stored; every handshake's message 2
     now announces it, authenticated, and devices pin it.
  2. wait until the devices have connected (watch 'devices list' LAST SEEN).
  3. promote: the next key becomes current. Devices that connected during
     the announcement already use it; one that never did is locked out.`,
	}
	show := &cobra.Command{Use: "show", Short: "Show the server's public keys", Args: cobra.NoArgs}
	showDSN := registryFlag(show)
	show.RunE = func(c *cobra.Command, _ []string) error {
		reg, err := openExistingRegistry(c.Context(), *showDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
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
	}
	announce := &cobra.Command{Use: "announce", Short: "Generate and announce the next server key", Args: cobra.NoArgs,
		Example: `  shakedown serverkey announce --registry sqlite:shakedown.db`}
	annDSN := registryFlag(announce)
	announce.RunE = func(c *cobra.Command, _ []string) error {
		reg, err := openExistingRegistry(c.Context(), *annDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		kp, err := noise.GenerateKeypair(nil)
		if err != nil {
			return err
		}
		if err := reg.AnnounceNextKey(c.Context(), registry.Keypair{Private: kp.Private, Public: kp.Public}); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "announced next key %x\n", kp.Public)
		return nil
	}
	promote := &cobra.Command{Use: "promote", Short: "Make the announced key current", Args: cobra.NoArgs}
	proDSN := registryFlag(promote)
	promote.RunE = func(c *cobra.Command, _ []string) error {
		reg, err := openExistingRegistry(c.Context(), *proDSN)
		if err != nil {
			return err
		}
		defer reg.Close()
		if err := reg.PromoteNextKey(c.Context()); err != nil {
			return err
		}
		fmt.Fprintln(c.OutOrStdout(), "promoted the next key to current")
		return nil
	}
	sk.AddCommand(show, announce, promote)
	root.AddCommand(sk)
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
