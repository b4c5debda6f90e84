// Package node is a LUMI node: the registrar and location proxy of one MI
// domain. Node serves PLUMI on one UDP socket; one goroutine owns the
// registration table and runs the state machine (core), DNS lookups run
// beside it. The package also holds the config file, the datagram log in
// the reference format and the admin console.
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
	f, err := os.Open(path)
	if err != nil {
		return Config{}, nil, err
	}
	defer f.Close()
	var hint int
	if fi, err := f.Stat(); err == nil {
		hint = sizeHint(fi.Size())
	}
	t := newTable(hint)
	c, err := parseConfig(f, path, hint, func(_, name string) bool {
		_, added := t.add(name)
		return added
	})
	if err != nil {
		return Config{}, nil, err
	}
	return c, t, nil
}

// sizeHint guesses the number of users in a file of size bytes. Sizing the
// table up front halves the time of a 1M-user load, which otherwise goes on
// growing the map; names are rarely shorter than about 10 bytes.
func sizeHint(size int64) int {
	return int(min(size/10, 10_000_000))
}

// ParseConfig reads the reference config format from r: whitespace separated
// words, the first the domain, the rest user names. name is used in errors.
func ParseConfig(r io.Reader, name string) (Config, error) {
	seen := make(map[string]struct{})
	return parseConfig(r, name, 0, func(key, _ string) bool {
		n := len(seen)
		seen[key] = struct{}{}
		return len(seen) != n
	})
}

// parseConfig is ParseConfig with room for about hint users reserved. add
// is called with each user's lower-cased name and the name, and says
// whether the user is new.
func parseConfig(r io.Reader, name string, hint int, add func(key, name string) bool) (Config, error) {
	p := configParser{
		c:     Config{Users: make([]string, 0, hint)},
		add:   add,
		lines: make([]int32, 0, hint),
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, maxWord), maxWord)
	sc.Split(p.ws.split)
	for sc.Scan() {
		if err := p.word(sc.Text()); err != nil {
			return Config{}, fmt.Errorf("%s:%d: %w", name, p.ws.tokLine, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, fmt.Errorf("%s:%d: %w", name, p.ws.line+1, err)
	}
	if p.c.Domain == "" {
		return Config{}, fmt.Errorf("%s: empty config: no domain", name)
	}
	if len(p.c.Users) == 0 {
		p.c.Users = nil // the same Config whether or not a hint was given
	}
	return p.c, nil
}

type configParser struct {
	ws    wordScanner
	c     Config
	add   func(key, name string) bool
	lines []int32 // lines[i] is where c.Users[i] was, for duplicate errors
}

func (p *configParser) word(w string) error {
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
	// in the map, so a duplicate shows as a map that did not grow.
	// Names are compared without case, as the node looks them up.
	if !p.add(strings.ToLower(w), w) {
		i := slices.IndexFunc(p.c.Users, func(u string) bool { return strings.EqualFold(u, w) })
		if p.c.Users[i] != w {
			return fmt.Errorf("duplicate user %q (first on line %d as %q)", w, p.lines[i], p.c.Users[i])
		}
		return fmt.Errorf("duplicate user %q (first on line %d)", w, p.lines[i])
	}
	p.c.Users = append(p.c.Users, w)
	p.lines = append(p.lines, int32(p.ws.tokLine))
	return nil
}

// wordScanner is bufio.ScanWords plus line counting, so that errors can
// point at a line without splitting the input twice.
type wordScanner struct {
	line    int // line of the next unread byte, minus one
	tokLine int // line of the last token returned
}

func (s *wordScanner) split(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := bufio.ScanWords(data, atEOF)
	if tok != nil {
		// tok is data[start:end], so its capacity tells where it starts.
		start := cap(data) - cap(tok)
		s.tokLine = s.line + 1 + bytes.Count(data[:start], newline)
	}
	s.line += bytes.Count(data[:adv], newline)
	return adv, tok, err
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
