// Package node is a LUMI node: the registrar and location proxy of one MI
// domain. Node serves PLUMI on one UDP address with one or more worker
// sockets (SO_REUSEPORT); each worker reads datagrams in batches and runs
// them through the state machine (core) on its own goroutine, against a
// table of users and locates in flight split into independently locked
// shards. DNS lookups run beside the workers. The package also holds the
// config file, the datagram log in the reference format and the admin
// console.
package node

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"mi/wire"
)

// Config is what a node's config file holds: the node's domain and the user
// names (the part before '@') that belong to it.
type Config struct {
	Domain string
	Users  []string
}

// maxWord bounds one word of the config file; a longer word is certainly
// not a name (a datagram is at most 100 bytes) and would only waste memory.
const maxWord = 64 << 10

// LoadConfig reads the config file at path. Errors name the file and, when
// the problem is a word, its line.
func LoadConfig(path string) (Config, error) {
	c, _, err := loadTable(path)
	return c, err
}

// loadTable is LoadConfig that also returns the node's table of the users,
// built while reading: the same table finds the duplicates, so a 1M-user
// file is hashed once.
func loadTable(path string) (Config, *table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, err
	}
	var t *table
	c, err := parseConfig(data, path, func(words int) func(string) bool {
		t = newTable(words)
		return func(name string) bool {
			_, added := t.add(name)
			return added
		}
	})
	if err != nil {
		return Config{}, nil, err
	}
	return c, t, nil
}

// ParseConfig reads the reference config format from r: whitespace separated
// words, the first the domain, the rest user names. name is used in errors.
func ParseConfig(r io.Reader, name string) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return parseConfig(data, name, func(words int) func(string) bool {
		seen := make(map[string]struct{}, words)
		return func(u string) bool {
			k := strings.ToLower(u)
			if _, dup := seen[k]; dup {
				return false
			}
			seen[k] = struct{}{}
			return true
		}
	})
}

// parseConfig parses the whole file data, which it takes over: the names
// are substrings of it, so a 1M-user file costs one allocation for its
// names instead of a million. start is called once the number of words is
// known, and returns the function that adds a user and says whether it is
// new (no other user has its name, compared without case).
func parseConfig(data []byte, name string, start func(words int) func(string) bool) (Config, error) {
	s := unsafeString(data) // data is never written again
	words := countWords(data)
	p := configParser{
		c:     Config{Users: make([]string, 0, max(words-1, 0))},
		add:   start(words),
		lines: make([]int32, 0, max(words-1, 0)),
	}
	line, pos := 1, 0
	for pos < len(data) {
		adv, tok, _ := bufio.ScanWords(data[pos:], true)
		if tok == nil {
			break
		}
		// tok is data[at:at+len(tok)]: its capacity tells where it starts.
		at := cap(data) - cap(tok)
		line += bytes.Count(data[pos:at], newline)
		if len(tok) > maxWord {
			return Config{}, fmt.Errorf("%s:%d: %w", name, line, bufio.ErrTooLong)
		}
		if err := p.word(s[at:at+len(tok)], line); err != nil {
			return Config{}, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		line += bytes.Count(data[at:pos+adv], newline)
		pos += adv
	}
	if p.c.Domain == "" {
		return Config{}, fmt.Errorf("%s: empty config: no domain", name)
	}
	if len(p.c.Users) == 0 {
		p.c.Users = nil // the same Config whatever the capacity
	}
	return p.c, nil
}

// countWords counts the words of data closely enough to size the table:
// the ASCII-separated ones exactly, which is every word of a config file
// written by WriteFile.
func countWords(data []byte) int {
	n, in := 0, false
	for _, c := range data {
		space := c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
		if !space && !in {
			n++
		}
		in = !space
	}
	return n
}

type configParser struct {
	c     Config
	add   func(name string) bool
	lines []int32 // lines[i] is where c.Users[i] was, for duplicate errors
}

func (p *configParser) word(w string, line int) error {
	if p.c.Domain == "" {
		if err := checkDomain(w); err != nil {
			return err
		}
		p.c.Domain = w
		return nil
	}
	if err := checkUserName(w); err != nil {
		return err
	}
	// One map operation per word: a 1M-user load spends most of its time
	// in the map, so a duplicate shows as an add that did not add.
	// Names are compared without case, as the node looks them up.
	if !p.add(w) {
		k := strings.ToLower(w)
		i := slices.IndexFunc(p.c.Users, func(u string) bool { return strings.ToLower(u) == k })
		if p.c.Users[i] != w {
			return fmt.Errorf("duplicate user %q (first on line %d as %q)", w, p.lines[i], p.c.Users[i])
		}
		return fmt.Errorf("duplicate user %q (first on line %d)", w, p.lines[i])
	}
	p.c.Users = append(p.c.Users, w)
	p.lines = append(p.lines, int32(line))
	return nil
}

var newline = []byte{'\n'}

// checkUserName says why name cannot be a user name, or returns nil. The
// rule is the spec's (wire.CheckUser), so that every name in the table can
// appear in an address on the wire.
func checkUserName(name string) error {
	if err := wire.CheckUser(name); err != nil {
		return fmt.Errorf("invalid user name %q: %w", name, err)
	}
	return nil
}

// checkDomain says why domain cannot be the node's domain (wire.CheckDomain).
func checkDomain(domain string) error {
	if err := wire.CheckDomain(domain); err != nil {
		return fmt.Errorf("invalid domain %q: %w", domain, err)
	}
	return nil
}

// validate rejects what ParseConfig would reject, so that WriteFile never
// produces a file the node cannot load again.
func (c Config) validate() error {
	if c.Domain == "" {
		return errors.New("config has no domain")
	}
	if err := checkDomain(c.Domain); err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(c.Users))
	for _, u := range c.Users {
		if err := checkUserName(u); err != nil {
			return err
		}
		k := strings.ToLower(u)
		if _, dup := seen[k]; dup {
			return fmt.Errorf("duplicate user %q", u)
		}
		seen[k] = struct{}{}
	}
	return nil
}

// WriteFile replaces the file at path with c: the domain on the first line,
// then one user per line. The replacement is atomic (temp file in the same
// directory, fsync, rename, fsync of the directory), so a crash at any
// moment leaves either the old or the new file, never a mix. An existing
// file's mode is kept; a new file gets 0644.
func (c Config) WriteFile(path string) (err error) {
	if err := c.validate(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := c.writeTo(tmp, mode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeTo fills the temp file f and makes it durable before it is renamed,
// otherwise the rename could reach the disk before the data.
func (c Config) writeTo(f *os.File, mode os.FileMode) error {
	if err := f.Chmod(mode); err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString(c.Domain)
	w.WriteByte('\n')
	for _, u := range c.Users {
		w.WriteString(u)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		// Some file systems cannot fsync a directory; the rename is then as
		// durable as they can make it.
		return nil
	}
	return err
}
