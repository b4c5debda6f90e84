package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
	"mi/wire/wiregen"
)

// The spec makes every PA example with the secret "hunter2".
const specSecret = "hunter2"

func TestMACOfTheSpecExamples(t *testing.T) {
	n := 0
	for _, ex := range wiregen.Examples {
		if ex.Tag != wire.TagAuthProof {
			continue
		}
		var p wire.AuthProof
		if err := p.Decode([]byte(ex.Input)); err != nil {
			t.Fatalf("%s: %v", ex.Input, err)
		}
		got, err := MAC([]byte(specSecret), &p)
		if err != nil || got != p.MAC {
			t.Errorf("%s: MAC = %q, %v; want %q", ex.Input, got, err, p.MAC)
		}
		if !Verify([]byte(specSecret), &p) {
			t.Errorf("%s: does not verify", ex.Input)
		}
		if Verify([]byte(specSecret+"x"), &p) {
			t.Errorf("%s: verifies with another secret", ex.Input)
		}
		other := p
		other.Op = 1 - p.Op
		if Verify([]byte(specSecret), &other) {
			t.Errorf("%s: the proof of one op verifies for the other", ex.Input)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no PA example in the spec")
	}
}

func TestReadSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       map[string][]byte
		err        string
	}{
		{"ok", "# secrets\n\nLaura 0123456789abcdef\npau   s3cret-s3cret-s3cret\n", map[string][]byte{
			"laura": []byte("0123456789abcdef"), "pau": []byte("s3cret-s3cret-s3cret")}, ""},
		{"short", "laura hunter2\n", nil, "/secrets:1: the secret of \"laura\" is 7 bytes, want at least 16"},
		{"words", "laura\n", nil, "/secrets:1: want \"user secret\", got 1 words"},
		{"bad user", "la@ra 0123456789abcdef\n", nil, "/secrets:1: "},
		{"duplicate", "laura 0123456789abcdef\nLAURA 0123456789abcdef\n", nil, "secrets:2: user \"LAURA\" has a secret already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadSecrets(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadSecret(t *testing.T) {
	for _, tc := range []struct{ name, file, want, err string }{
		{"ok", "  0123456789abcdef-xyz\n", "0123456789abcdef-xyz", ""},
		{"short", "hunter2\n", "", "the secret is 7 bytes, want at least 16"},
		{"two words", "0123456789 abcdef0123\n", "", "holds a space or a line break"},
	} {
		path := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadSecret(path)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
