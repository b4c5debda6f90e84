package node

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"mi/wire"
)

func TestParseConfig(t *testing.T) {
	longestUser, tooLongUser := strings.Repeat("u", wire.MaxUserLen), strings.Repeat("u", wire.MaxUserLen+1)
	longestDomain, tooLongDomain := strings.Repeat("d", wire.MaxDomainLen), strings.Repeat("d", wire.MaxDomainLen+1)
	const empty = "t.cfg: empty config: no domain (the first line that is not blank or a comment names it)"
	tests := []struct {
		name    string
		in      string
		want    Config
		wantErr string // the whole error; "" means no error
	}{
		{"reference file", "david-nuclear\ndavid.perez\nlaura.galera\npere.vila\n",
			Config{"david-nuclear", []string{"david.perez", "laura.galera", "pere.vila"}}, ""},
		{"reference file with CRLF", "david-nuclear\r\ndavid.perez\r\nlaura.galera\r\npere.vila\r\n",
			Config{"david-nuclear", []string{"david.perez", "laura.galera", "pere.vila"}}, ""},
		{"no final newline", "PC-c\nu1\nu2", Config{"PC-c", []string{"u1", "u2"}}, ""},
		{"blanks around names and blank lines", " \t\n\tPC-c \r\n\n  u1\t\r\n\v u2\f\nu3  ", Config{"PC-c", []string{"u1", "u2", "u3"}}, ""},
		{"unicode space is part of a name", "d\nu1\u00a0u2\n", Config{"d", []string{"u1\u00a0u2"}}, ""},
		{"domain only", "bb.com\n", Config{Domain: "bb.com"}, ""},
		{"utf-8 names", "d\nñandú\n李\n", Config{"d", []string{"ñandú", "李"}}, ""},
		{"comments", "# the domain\n  # indented\nbb.com\n#laura\nmarc\n\t# pau\njoan\n#", Config{"bb.com", []string{"marc", "joan"}}, ""},
		{"a user name with # inside", "d\na#b\n", Config{"d", []string{"a#b"}}, ""},
		// The spec's domain rule (dnsname: allow "A-Z a-z 0-9 - . _", a DNS
		// name) accepts a name that starts with '-'.
		{"domain rule accepts a_b", "a_b\nu\n", Config{"a_b", []string{"u"}}, ""},
		{"domain rule refuses -", "-\nu\n", Config{}, `t.cfg:1: invalid domain "-": field "domain" at offset 0: bad field: not a host name: a label starts or ends with "-"`},
		{"domain rule refuses -a.com", "-a.com\n", Config{}, `t.cfg:1: invalid domain "-a.com": field "domain" at offset 0: bad field: not a host name: a label starts or ends with "-"`},
		{"domain rule refuses a trailing dot", "bb.com.\n", Config{}, `t.cfg:1: invalid domain "bb.com.": field "domain" at offset 7: bad field: not a host name: an empty label`},
		{"empty", "", Config{}, empty},
		{"only blanks", " \n\t\n", Config{}, empty},
		{"only comments", "# bb.com\n# laura\n", Config{}, empty},
		{"two words on the domain line", "bad domain!\nu\n", Config{}, `t.cfg:1: the domain line holds "bad" and then "domain!": the domain must be alone on its line, users go on the lines after it`},
		{"domain and users on one line", "PC-c u1 u2", Config{}, `t.cfg:1: the domain line holds "PC-c" and then "u1 u2": the domain must be alone on its line, users go on the lines after it`},
		{"several users on a line, as the reference reads them", "# c\n\nd\n# c\nlaura \t galera\npau\n", Config{Domain: "d", Users: []string{"laura", "galera", "pau"}}, ""},
		{"duplicate on one line", "d\nlaura galera laura\n", Config{}, `t.cfg:2: duplicate user "laura" (first on line 2)`},
		{"comment after a name", "d\nlaura # admin\n", Config{}, `t.cfg:2: invalid user name "#": a name in the config file cannot start with '#', which starts a comment line`},
		{"comment line counted", "#\nd\na\nb\n#\na\n", Config{}, `t.cfg:6: duplicate user "a" (first on line 3)`},
		{"duplicate", "d\na\nb\n\na\n", Config{}, `t.cfg:5: duplicate user "a" (first on line 2)`},
		{"at sign", "d\nu1\nu2@d\n", Config{}, `t.cfg:3: invalid user name "u2@d": field "user" at offset 2: bad field: byte '@' not allowed`},
		{"colon", "d\n\n\nu:1", Config{}, `t.cfg:4: invalid user name "u:1": field "user" at offset 1: bad field: byte ':' not allowed`},
		{"control", "d\nu\x01", Config{}, `t.cfg:2: invalid user name "u\x01": field "user" at offset 1: bad field: byte 0x01 not allowed`},
		{"delete", "d\nu\x7f", Config{}, `t.cfg:2: invalid user name "u\x7f": field "user" at offset 1: bad field: byte 0x7f not allowed`},
		{"duplicate only by strings.ToLower", "d\n\u0130\ni", Config{}, `t.cfg:3: duplicate user "i" (first on line 2 as "İ")`},
		{"duplicate in another case", "d\nLaura\nlaura", Config{}, `t.cfg:3: duplicate user "laura" (first on line 2 as "Laura")`},
		{"user too long", "d\n" + tooLongUser, Config{}, fmt.Sprintf(`t.cfg:2: invalid user name %q: field "user" at offset 0: too long: length %d, limit %d`, tooLongUser, wire.MaxUserLen+1, wire.MaxUserLen)},
		{"longest user", "d\n" + longestUser, Config{"d", []string{longestUser}}, ""},
		{"longest domain", longestDomain + "\nu", Config{longestDomain, []string{"u"}}, ""},
		{"domain too long", tooLongDomain + "\nu", Config{}, fmt.Sprintf(`t.cfg:1: invalid domain %q: field "domain" at offset 0: too long: length %d, limit %d`, tooLongDomain, wire.MaxDomainLen+1, wire.MaxDomainLen)},
		{"bad utf-8", "d\nu\xff", Config{}, `t.cfg:2: invalid user name "u\xff": field "user" at offset 1: bad field: invalid UTF-8`},
		{"bad domain", "a@b\nu", Config{}, `t.cfg:1: invalid domain "a@b": field "domain" at offset 1: bad field: byte '@' not allowed`},
		{"domain not a host name", "\n.bb.com\n", Config{}, `t.cfg:2: invalid domain ".bb.com": field "domain" at offset 0: bad field: not a host name: an empty label`},
		{"unicode space in the domain", "d\u00a0u1\n", Config{}, `t.cfg:1: invalid domain "d\u00a0u1": field "domain" at offset 1: bad field: byte 0xc2 not allowed`},
		{"word too long", "d\n" + strings.Repeat("x", maxWord+1), Config{}, fmt.Sprintf("t.cfg:2: invalid user name: %d bytes, longer than any name can be", maxWord+1)},
		{"domain word too long", strings.Repeat("x", maxWord+1), Config{}, fmt.Sprintf("t.cfg:1: invalid domain: %d bytes, longer than any name can be", maxWord+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig(strings.NewReader(tt.in), "t.cfg")
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseConfig = %+v, want the error %q", got, tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Fatalf("error mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseConfig mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// The line count must survive the scanner refilling its buffer mid-file.
func TestParseConfigLineNumbersAcrossBuffers(t *testing.T) {
	var b strings.Builder
	b.WriteString("d\n")
	for i := range 200000 {
		fmt.Fprintf(&b, "user%d\n", i)
	}
	b.WriteString("\n\nbad@x\n")
	_, err := ParseConfig(strings.NewReader(b.String()), "big.cfg")
	want := `big.cfg:200004: invalid user name "bad@x"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

func TestLoadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodelumi.cfg")
	if err := os.WriteFile(path, []byte("PC-c\nu1\nu2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Config{"PC-c", []string{"u1", "u2"}}, got); diff != "" {
		t.Errorf("LoadConfig mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	empty := write("empty.cfg", "")
	bad := write("bad.cfg", "# bb.com's node\nbad domain!\n")
	missing := filepath.Join(dir, "missing.cfg")
	tests := []struct {
		name, path string
		want       string
		notExist   bool
	}{
		{"empty", empty, empty + ": empty config: no domain (the first line that is not blank or a comment names it)", false},
		{"bad line", bad, bad + `:2: the domain line holds "bad" and then "domain!": the domain must be alone on its line, users go on the lines after it`, false},
		{"missing", missing, "open " + missing + ": no such file or directory (the config file is set with -config); " +
			"it holds the domain alone on its first line, then the user names, e.g.\n    bb.com\n    laura", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.path)
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tt.notExist)
			}
		})
	}
}

// The example the missing file's error shows is a config that loads.
func TestConfigExampleLoads(t *testing.T) {
	got, err := ParseConfig(strings.NewReader(configExample), "example")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Config{"bb.com", []string{"laura"}}, got); diff != "" {
		t.Errorf("example mismatch (-want +got):\n%s", diff)
	}
}

// The real file from the reference, when the shared captures are at hand.
func TestLoadConfigReferenceFile(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "captures", "nodelumi.cfg")
	if _, err := os.Stat(path); err != nil {
		t.Skip("../shared/captures not present: ", err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{"david-nuclear", []string{"david.perez", "laura.galera", "pere.vila"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadConfig mismatch (-want +got):\n%s", diff)
	}
}

// Allocations must grow with the user strings only, not with extra work
// per word.
func TestParseConfigAllocs(t *testing.T) {
	const n = 10000
	var b strings.Builder
	b.WriteString("d\n")
	for i := range n {
		fmt.Fprintf(&b, "user%d\n", i)
	}
	in := b.String()
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := ParseConfig(strings.NewReader(in), "x"); err != nil {
			t.Fatal(err)
		}
	})
	if limit := float64(n + n/4 + 100); allocs > limit {
		t.Errorf("ParseConfig of %d users: %.0f allocs, want at most %.0f", n, allocs, limit)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	configs := []Config{
		{Domain: "PC-c"},
		{"PC-c", []string{"u1", "u2"}},
		{"david-nuclear", []string{"david.perez", "laura.galera", "pere.vila"}},
		{"d", []string{"ñandú", "李", "a.b-c_d"}},
		{"_", []string{"a#b", "u1\u00a0u2", "\u00a0edge\u00a0"}},
	}
	path := filepath.Join(t.TempDir(), "n.cfg")
	for _, c := range configs {
		if err := c.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		got, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip mismatch (-wrote +loaded):\n%s", diff)
		}
	}
}

func TestWriteFileFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.cfg")
	if err := (Config{"david-nuclear", []string{"david.perez", "laura.galera", "pere.vila"}}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "david-nuclear\ndavid.perez\nlaura.galera\npere.vila\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("file mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteFileLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "n.cfg")
	for range 3 {
		if err := (Config{"d", []string{"a", "b"}}).WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	if err := (Config{"d", []string{"a", "a"}}).WriteFile(path); err == nil {
		t.Fatal("WriteFile with a duplicate user succeeded")
	}
	if got := dirNames(t, dir); !cmp.Equal(got, []string{"n.cfg"}) {
		t.Errorf("directory holds %q, want only n.cfg", got)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.cfg")
	if err := os.WriteFile(path, []byte("d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := (Config{"d", []string{"a"}}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o640 {
		t.Errorf("mode = %v, want 0640", got)
	}
}

func TestWriteFileRejectsInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.cfg")
	for _, c := range []Config{
		{},
		{Domain: "d@x"},
		{"d", []string{""}},
		{"d", []string{"a b"}},
		{"d", []string{"a:b"}},
		{"d", []string{"a", "b", "a"}},
		{"d", []string{"#a"}}, // would read back as a comment
		{"d", []string{"a\tb"}},
	} {
		if err := c.WriteFile(path); err == nil {
			t.Errorf("WriteFile(%+v) succeeded, want an error", c)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a rejected config left a file behind (stat: %v)", err)
	}
}

// A write the directory refuses names the directory, not the temp file
// WriteFile would have made in it.
func TestWriteFileUnwritableDirectory(t *testing.T) {
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name, dir string
		reason    string
	}{
		{"missing directory", missing, "no such file or directory"},
		{"read-only directory", readOnly, "permission denied"},
		{"read-only file system", "/sys", "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "missing directory" {
				probe := filepath.Join(tt.dir, "probe")
				if f, err := os.Create(probe); err == nil {
					f.Close()
					os.Remove(probe)
					t.Skipf("%s is writable here (running as root?)", tt.dir)
				}
			}
			path := filepath.Join(tt.dir, "n.cfg")
			err := (Config{"d", []string{"a"}}).WriteFile(path)
			if err == nil {
				t.Fatal("WriteFile succeeded")
			}
			want := "write " + path + ": cannot create a file in directory " + tt.dir + ": " + tt.reason
			if diff := cmp.Diff(want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

const crashChildEnv = "NODE_CONFIG_CRASH_CHILD"

var (
	crashA = Config{"alpha.example", manyUsers("a", 5000)}
	crashB = Config{"beta.example", manyUsers("b", 7)}
)

func manyUsers(prefix string, n int) []string {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return users
}

// TestWriteFileCrashSafety kills a process that keeps rewriting the config
// and checks that the file is always one whole config, never a mix.
func TestWriteFileCrashSafety(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "n.cfg")
	if err := crashA.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	for round := range rounds {
		killWriter(t, path, time.Duration(50+rand.IntN(250))*time.Millisecond)
		got, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("round %d: after SIGKILL: %v", round, err)
		}
		if !cmp.Equal(got, crashA) && !cmp.Equal(got, crashB) {
			t.Fatalf("round %d: after SIGKILL the file is neither A nor B: domain %q, %d users",
				round, got.Domain, len(got.Users))
		}
	}
}

// killWriter runs the child writer, lets it write for about d and kills it.
func killWriter(t *testing.T, path string, d time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteFileCrashSafety$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child is writing, so the kill lands among the writes.
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start writing: %v", err)
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// crashChild alternates A and B until killed; the deadline only stops an
// orphan if the parent dies first.
func crashChild(path string) {
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		c := crashA
		if i%2 == 0 {
			c = crashB
		}
		if err := c.WriteFile(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i == 0 {
			fmt.Println("writing")
		}
	}
	os.Exit(0)
}

func BenchmarkLoadConfig1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.cfg")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("bench.example\n")
	for i := range 1000000 {
		fmt.Fprintf(w, "user%07d\n", i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := LoadConfig(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Users) != 1000000 {
			b.Fatalf("%d users", len(c.Users))
		}
	}
}

// FuzzParseConfig: a config file is untrusted input. Whatever the bytes,
// ParseConfig returns a config or an error naming the file, never panics,
// and what it accepts WriteFile writes and LoadConfig reads back the same.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"david-nuclear\ndavid.perez\nlaura.galera\npere.vila\n",
		"# c\r\n bb.com \r\n\tlaura\r\n#x\n\nmarc",
		"bad domain!\nu\n",
		"d\nu1\u00a0u2\n#a\na#\n",
		"d\na\nA\n",
		"",
		"-\n-a.com\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(bytes.NewReader(data), "f.cfg")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.cfg:") {
				t.Fatalf("error %q does not start with the file's name", err)
			}
			return
		}
		path := filepath.Join(dir, "f.cfg")
		if err := c.WriteFile(path); err != nil {
			t.Fatalf("a config ParseConfig accepted cannot be written: %v", err)
		}
		got, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("WriteFile wrote what LoadConfig refuses: %v", err)
		}
		if diff := cmp.Diff(c, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip mismatch (-parsed +reloaded):\n%s", diff)
		}
	})
}
