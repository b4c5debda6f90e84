package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/redis/rueidis"
)

// scanCount is how many hash entries one HSCAN asks for: each call holds
// Redis for about as long as a few thousand small commands, so a million
// users are read without blocking the store.
const scanCount = 1000

// maxJoined bounds the decode errors that one read returns; the rest are
// counted.
const maxJoined = 10

// casScript is CompareAndSet, atomic in Redis. KEYS[1] the bindings hash;
// ARGV[1] the user, ARGV[2] the version expected ("0": absent), ARGV[3]
// the new value (its version ARGV[2]+1), ARGV[4] the changes channel. It
// returns {1} when it stored the value and published the change, else
// {0} for an absent binding or {0, value} for the stored one. The version
// is compared as the string the encoder writes, so a value whose version
// is not canonical never matches, and its decoding says why.
var casScript = rueidis.NewLuaScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local ver = '0'
if cur then ver = string.match(cur, '^(%d+) ') end
if ver ~= ARGV[2] then
  if cur then return {0, cur} end
  return {0}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[1] .. ' ' .. ARGV[3])
return {1}
`)

// CompareAndSet stores b if the store's binding of b.User has version
// b.Version (0: none stored), as version b.Version+1, and publishes the
// change to every Watch: it returns the stored binding and won true.
// Otherwise it changes nothing and returns the store's binding (the zero
// Binding if there is none) and won false. Of two calls with the same
// version, exactly one wins. b must pass Check.
func (s *Store) CompareAndSet(ctx context.Context, b Binding) (cur Binding, won bool, err error) {
	if err := b.Check(); err != nil {
		return Binding{}, false, err
	}
	if b.Version == math.MaxUint64 {
		return Binding{}, false, fmt.Errorf("cluster: binding of %s: %w: version %d has no successor", b.User, ErrInvalid, b.Version)
	}
	next := b
	next.Version++
	start := s.begin()
	res, err := casScript.Exec(ctx, s.client, []string{s.keys.bindings},
		[]string{b.User, strconv.FormatUint(b.Version, 10), string(appendValue(nil, next)), s.keys.changes}).ToArray()
	if err := s.done(ctx, start, err); err != nil {
		return Binding{}, false, err
	}
	if len(res) == 0 || len(res) > 2 {
		return Binding{}, false, fmt.Errorf("cluster: store %s: compare-and-set replied %d values", s.url, len(res))
	}
	flag, err := res[0].AsInt64()
	if err != nil {
		return Binding{}, false, fmt.Errorf("cluster: store %s: compare-and-set: %w", s.url, err)
	}
	switch {
	case flag == 1:
		return next, true, nil
	case len(res) == 1:
		return Binding{}, false, nil
	}
	v, err := res[1].ToString()
	if err != nil {
		return Binding{}, false, fmt.Errorf("cluster: store %s: compare-and-set: %w", s.url, err)
	}
	cur, err = decodeValue(s.keys.bindings, b.User, v)
	return cur, false, err
}

// scan calls fn with each field and value of the hash key, one HSCAN page
// at a time. A field may come twice if the hash changes meanwhile.
func (s *Store) scan(ctx context.Context, key string, fn func(field, value string)) error {
	var cursor uint64
	for {
		start := s.begin()
		e, err := s.client.Do(ctx, s.client.B().Hscan().Key(key).Cursor(cursor).Count(scanCount).Build()).AsScanEntry()
		if err := s.done(ctx, start, err); err != nil {
			return err
		}
		if len(e.Elements)%2 != 0 {
			return fmt.Errorf("cluster: store %s: HSCAN %s replied %d elements", s.url, key, len(e.Elements))
		}
		for i := 0; i < len(e.Elements); i += 2 {
			fn(e.Elements[i], e.Elements[i+1])
		}
		if cursor = e.Cursor; cursor == 0 {
			return nil
		}
	}
}

// MalformedError is the values of one read (Load, Bindings, Nodes) that
// do not decode. errors.Is(err, ErrMalformed) holds for it.
type MalformedError struct {
	Errs  []*DecodeError // the first ones, up to 10
	Count int            // how many in all
}

// Error is the errors one a line, and how many more there were.
func (e *MalformedError) Error() string {
	var b strings.Builder
	for i, de := range e.Errs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(de.Error())
	}
	if more := e.Count - len(e.Errs); more > 0 {
		fmt.Fprintf(&b, "\ncluster: and %d more %s values", more, ErrMalformed)
	}
	return b.String()
}

// Unwrap is the DecodeErrors, each wrapping ErrMalformed.
func (e *MalformedError) Unwrap() []error {
	errs := make([]error, len(e.Errs))
	for i, de := range e.Errs {
		errs[i] = de
	}
	return errs
}

// malformed collects the decode errors of one read.
type malformed struct{ e MalformedError }

func (m *malformed) add(err error) {
	var de *DecodeError // all that decodeValue and decodeNode return
	if m.e.Count++; errors.As(err, &de) && len(m.e.Errs) < maxJoined {
		m.e.Errs = append(m.e.Errs, de)
	}
}

// err is nil, or a *MalformedError.
func (m *malformed) err() error {
	if m.e.Count == 0 {
		return nil
	}
	return &m.e
}

// Load reads every binding of the domain, by user. The read is a series of
// HSCAN pages, so a binding that changes meanwhile may be seen before or
// after the change. Values that do not decode are left out and reported
// in an error that wraps ErrMalformed, returned with the bindings that did
// decode; any other error comes with a nil map.
func (s *Store) Load(ctx context.Context) (map[string]Binding, error) {
	all := make(map[string]Binding)
	var bad malformed
	err := s.scan(ctx, s.keys.bindings, func(user, v string) {
		b, err := decodeValue(s.keys.bindings, user, v)
		if err != nil {
			bad.add(err)
			return
		}
		all[user] = b
	})
	if err != nil {
		return nil, err
	}
	return all, bad.err()
}

// Owned counts the bindings of one owner node.
type Owned struct {
	Bindings int // the users whose binding names the node
	Online   int // of those, the ones online
}

// Bindings counts the domain's bindings by owner node id, for operators.
// Like Load, it reads the whole hash in pages, and reports values that do
// not decode in an error that wraps ErrMalformed, returned with the counts
// of the others.
func (s *Store) Bindings(ctx context.Context) (map[string]Owned, error) {
	by := make(map[string]Owned)
	seen := make(map[string]bool) // HSCAN may repeat a field
	var bad malformed
	err := s.scan(ctx, s.keys.bindings, func(user, v string) {
		if seen[user] {
			return
		}
		seen[user] = true
		b, err := decodeValue(s.keys.bindings, user, v)
		if err != nil {
			bad.add(err)
			return
		}
		o := by[b.Owner]
		o.Bindings++
		if b.Online {
			o.Online++
		}
		by[b.Owner] = o
	})
	if err != nil {
		return nil, err
	}
	return by, bad.err()
}
