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
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"mi/internal/atomicfile"
	"mi/wire"
)

// Config is what a node's config file holds: the node's domain and the user
// names (the part before '@') that belong to it.
type Config struct {
	Domain string
	Users  []string
}

// maxWord bounds one word of the config file; a longer word is certainly
// not a name (a datagram is at most 100 bytes), and an error does not quote
// it.
const maxWord = 64 << 10

// configExample is the config format in two lines, for the error of a
// missing file.
const configExample = "    bb.com\n    laura"

// LoadConfig reads the config file at path (the format is ParseConfig's).
// Errors name the file and, when the problem is on a line, the line; the
// error of a missing file (errors.Is fs.ErrNotExist) also shows the format.
func LoadConfig(path string) (Config, error) {
	c, _, err := loadTable(path)
	return c, err
}

// loadTable is LoadConfig that also returns the node's table of the users,
// built while reading: the same table finds the duplicates, so a 1M-user
// file is hashed once.
func loadTable(path string) (Config, *table, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil, fmt.Errorf("%w (the config file is set with -config); "+
			"it holds the domain alone on its first line, then the user names, e.g.\n%s", err, configExample)
	}
	if err != nil {
		return Config{}, nil, err
	}
	var t *table
	c, err := parseConfig(data, path, func(lines int) func(string) bool {
		t = newTable(lines)
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

// ParseConfig reads a config file from r. name is used in errors, which
// are "name:LINE: reason".
//
// The format is the reference's, read strictly: the first line that is
// neither blank nor a comment holds the domain and nothing else, every
// next such line one user name (the part before '@') or several separated
// by blanks, as the reference read every word after the domain. (WriteFile
// writes one per line.) A comment line starts
// with '#' (after blanks, if any). Blanks are ASCII white space (space, tab,
// CR, VT, FF), which no name may hold, so a line with a CRLF end reads as
// its LF form; around a name they are ignored. The domain is checked by
// the spec's rule (wire.CheckDomain), each user by its user rule
// (wire.CheckUser); two users whose names differ only in case are one user
// twice.
func ParseConfig(r io.Reader, name string) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return parseConfig(data, name, func(lines int) func(string) bool {
		seen := make(map[string]struct{}, lines)
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
// names instead of a million. start is called once the number of lines is
// known, and returns the function that adds a user and says whether it is
// new (no other user has its name, compared without case).
func parseConfig(data []byte, name string, start func(lines int) func(string) bool) (Config, error) {
	s := unsafeString(data) // data is never written again
	lines := bytes.Count(data, newline) + 1
	p := configParser{
		c:     Config{Users: make([]string, 0, lines-1)},
		add:   start(lines),
		lines: make([]int32, 0, lines-1),
	}
	for line := 1; len(s) > 0; line++ {
		text := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			text, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if err := p.line(text, line); err != nil {
			return Config{}, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if p.c.Domain == "" {
		return Config{}, fmt.Errorf("%s: empty config: no domain (the first line that is not blank or a comment names it)", name)
	}
	if len(p.c.Users) == 0 {
		p.c.Users = nil // the same Config whatever the capacity
	}
	return p.c, nil
}

// configBlanks are the bytes the config format ignores around a name: the
// ASCII white space, as the reference's reader (C's isspace) skips it.
const configBlanks = " \t\r\v\f"

type configParser struct {
	c     Config
	add   func(name string) bool
	lines []int32 // lines[i] is where c.Users[i] was, for duplicate errors
}

// line reads one line of the file, its '\n' taken off.
func (p *configParser) line(text string, line int) error {
	w := strings.Trim(text, configBlanks)
	if w == "" || w[0] == '#' {
		return nil
	}
	what := "user name"
	if p.c.Domain == "" {
		what = "domain"
	}
	if len(w) > maxWord {
		return fmt.Errorf("invalid %s: %d bytes, longer than any name can be", what, len(w))
	}
	i := strings.IndexAny(w, configBlanks)
	if p.c.Domain == "" {
		if i >= 0 {
			rest := strings.TrimLeft(w[i:], configBlanks)
			return fmt.Errorf("the domain line holds %q and then %q: the domain must be alone on its line, users go on the lines after it", w[:i], rest)
		}
		if err := checkDomain(w); err != nil {
			return err
		}
		p.c.Domain = w
		return nil
	}
	// User lines hold one name or several, as the reference read every
	// word after the domain as a user.
	for i >= 0 {
		if err := p.user(w[:i], line); err != nil {
			return err
		}
		w = strings.TrimLeft(w[i:], configBlanks)
		i = strings.IndexAny(w, configBlanks)
	}
	return p.user(w, line)
}

// user adds the user name w, read on line.
func (p *configParser) user(w string, line int) error {
	if err := checkUserName(w); err != nil {
		return err
	}
	// One map operation per user: a 1M-user load spends most of its time
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
	if strings.HasPrefix(name, "#") {
		// The spec allows it, the config file cannot hold it: its line
		// would read back as a comment.
		return fmt.Errorf("invalid user name %q: a name in the config file cannot start with '#', which starts a comment line", name)
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
func (c Config) WriteFile(path string) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	var b bytes.Buffer
	b.WriteString(c.Domain)
	b.WriteByte('\n')
	for _, u := range c.Users {
		b.WriteString(u)
		b.WriteByte('\n')
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}
