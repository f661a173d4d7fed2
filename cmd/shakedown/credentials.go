package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/tlsprofile"
	"shakedown/server/credential"
	"shakedown/server/registry"
)

// tlsCredentials fills the credentials of a new tls device from the flags
// of `devices add`, and returns the files it wrote. Without a flag it makes
// a key and a self-signed certificate in outDir.
func tlsCredentials(ctx context.Context, reg registry.Registry, d *registry.Device, certFile, pwFile, pwHash, outDir string) ([]string, error) {
	if certFile != "" {
		if len(d.Key) > 0 {
			return nil, errors.New("--cert and --key both name the certificate: give one")
		}
		pin, err := certificatePin(certFile)
		if err != nil {
			return nil, err
		}
		d.Key = pin
	}
	if pwFile != "" && pwHash != "" {
		return nil, errors.New("--password-file and --password-hash: give one")
	}
	if pwFile != "" {
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			return nil, err
		}
		k, err := reg.PasswordKey(ctx)
		if err != nil {
			return nil, err
		}
		if d.PasswordHash, err = credential.HashMachine(k, d.ID, trimNewline(pw)); err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
	}
	if pwHash != "" {
		if _, err := credential.Parse(pwHash); err != nil {
			return nil, fmt.Errorf("--password-hash: %w", err)
		}
		d.PasswordHash = pwHash
	}
	if len(d.Key) > 0 || d.PasswordHash != "" {
		return nil, nil
	}
	return newDeviceCertificate(d, outDir)
}

// certificatePin reads a PEM certificate and returns its pin.
func certificatePin(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("--cert: %s holds no PEM CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("--cert: parsing %s: %w", path, err)
	}
	return tlsprofile.ClientPin(c.RawSubjectPublicKeyInfo), nil
}

// newDeviceCertificate makes an Ed25519 key and a self-signed certificate
// for d in dir (ID.key, mode 0600; ID.crt), never over existing files, and
// sets d's pin.
func newDeviceCertificate(d *registry.Device, dir string) ([]string, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := tlsprofile.DeviceCertificate(d.ID, key, time.Now(), nil, nil)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	keyPath, certPath := filepath.Join(dir, d.ID+".key"), filepath.Join(dir, d.ID+".crt")
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o644); err != nil {
		os.Remove(keyPath)
		return nil, err
	}
	d.Key = tlsprofile.ClientPin(cert.Leaf.RawSubjectPublicKeyInfo)
	return []string{keyPath, certPath}, nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing the device's credentials: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing the device's credentials: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing the device's credentials: %w", err)
	}
	return nil
}

// importMosquitto registers the accounts of a mosquitto password file as
// tls devices, in one transaction.
func importMosquitto(ctx context.Context, dsn, path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	es, err := credential.ParsePasswordFile(f)
	if err != nil {
		return err
	}
	ds := make([]registry.Device, len(es))
	for i, e := range es {
		ds[i] = registry.Device{ID: e.User, Profile: handshake.TLS, State: registry.Active, PasswordHash: e.Hash}
	}
	if err := importDevices(ctx, dsn, ds); err != nil {
		return err
	}
	fmt.Fprintf(w, "imported %d mosquitto accounts as tls devices (slow hashes: give them certificates or machine passwords when you can)\n", len(ds))
	return nil
}
