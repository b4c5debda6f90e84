// Package auth holds what agents and nodes share of authenticated
// registration (spec/mi.spec, "Authenticated registration"): the proof's
// MAC, the node's nonces (Nonces) and the secrets file. The wire forms are
// the generated codecs'; this package computes the values that go in them.
package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"unicode"

	"mi/wire"
)

// macBytes is how much of the HMAC-SHA256 the proof carries: 128 bits, as
// the spec's kind mac says.
const macBytes = 16

// MAC is the mac of the proof p made with secret: the first 128 bits of
// HMAC-SHA256, keyed with secret, of the bytes the mac signs
// (wire.AuthProof.AppendSigned), in lower-case hex. p.MAC is ignored.
func MAC(secret []byte, p *wire.AuthProof) (string, error) {
	signed, err := p.AppendSigned(nil)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, secret)
	h.Write(signed)
	return hex.EncodeToString(h.Sum(nil)[:macBytes]), nil
}

// Verify says whether p's mac is the one secret makes, comparing in
// constant time so that the answer's timing tells nothing of the secret.
func Verify(secret []byte, p *wire.AuthProof) bool {
	want, err := MAC(secret, p)
	return err == nil && hmac.Equal([]byte(want), []byte(p.MAC))
}

// minSecret is the shortest secret a secrets file may hold: a guessable
// secret proves nothing.
const minSecret = 16

// ReadSecrets reads a secrets file: each line "user secret", the user as in the
// node's config and the secret any run of at least 16 non-space bytes;
// blank lines and lines starting with # are skipped. Users are compared
// without case, as the node compares them; the map's keys are lower case.
func ReadSecrets(path string) (map[string][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secrets := make(map[string][]byte)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, secret, err := secretLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		key := strings.ToLower(user)
		if _, dup := secrets[key]; dup {
			return nil, fmt.Errorf("%s:%d: user %q has a secret already", path, n, user)
		}
		secrets[key] = []byte(secret)
	}
	return secrets, sc.Err()
}

// ReadSecret reads an agent's secret: the file's content without the
// spaces and line breaks around it, at least 16 bytes, with no space inside.
func ReadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secret := bytes.TrimSpace(b)
	switch {
	case len(secret) < minSecret:
		return nil, fmt.Errorf("%s: the secret is %d bytes, want at least %d", path, len(secret), minSecret)
	case bytes.ContainsFunc(secret, unicode.IsSpace):
		return nil, fmt.Errorf("%s: the secret holds a space or a line break: want one word", path)
	}
	return secret, nil
}

// secretLine splits a line of a secrets file, checking both halves.
func secretLine(line string) (user, secret string, err error) {
	fields := strings.Fields(line)
	if len(fields) != 2 {
		return "", "", fmt.Errorf("want \"user secret\", got %d words", len(fields))
	}
	user, secret = fields[0], fields[1]
	if err := wire.CheckUser(user); err != nil {
		return "", "", err
	}
	if len(secret) < minSecret {
		return "", "", fmt.Errorf("the secret of %q is %d bytes, want at least %d", user, len(secret), minSecret)
	}
	return user, secret, nil
}
