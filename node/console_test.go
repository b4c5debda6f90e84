package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"mi/internal/syncbuf"
	"mi/wire"

	"github.com/google/go-cmp/cmp"
)

// fakeAdmin is a user table; the name "boom" makes every call fail, to
// show how the console reports an error it has no wording for.
type fakeAdmin struct {
	users map[string]UserInfo
}

var errBoom = errors.New("table is read-only")

func newFakeAdmin(users ...UserInfo) *fakeAdmin {
	a := &fakeAdmin{users: make(map[string]UserInfo)}
	for _, u := range users {
		a.users[u.Name] = u
	}
	return a
}

func (a *fakeAdmin) AddUser(name string) error {
	if name == "boom" {
		return errBoom
	}
	if _, ok := a.users[name]; ok {
		return fmt.Errorf("add: %w", ErrUserExists)
	}
	a.users[name] = UserInfo{Name: name}
	return nil
}

func (a *fakeAdmin) RemoveUser(name string) error {
	if name == "boom" {
		return errBoom
	}
	if _, ok := a.users[name]; !ok {
		return ErrUnknownUser
	}
	delete(a.users, name)
	return nil
}

func (a *fakeAdmin) Users() []UserInfo {
	var list []UserInfo
	for _, u := range a.users {
		list = append(list, u)
	}
	slices.SortFunc(list, func(x, y UserInfo) int { return strings.Compare(x.Name, y.Name) })
	return list
}

var (
	alice = UserInfo{
		Name:     "alice",
		Agent:    netip.MustParseAddrPort("10.100.100.101:51189"),
		Online:   true,
		LastSeen: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC),
	}
	bob   = UserInfo{Name: "bob"}
	carol = UserInfo{
		Name:     "carol",
		Agent:    netip.MustParseAddrPort("[::ffff:10.0.0.3]:4000"),
		LastSeen: time.Date(2024, 5, 1, 12, 30, 5, 0, time.FixedZone("CEST", 2*3600)),
	}
)

func TestRunConsole(t *testing.T) {
	tests := []struct {
		name    string
		users   []UserInfo
		script  string
		want    string
		wantErr error
	}{
		{
			name:   "add list remove",
			script: "add alice\nlist\nremove alice\nlist\nquit\n",
			want: "added alice\n" +
				"NAME   AGENT           STATE    LAST SEEN\n" +
				"alice  not registered  OFFLINE  -\n" +
				"removed alice\n" +
				"no users\n",
		},
		{
			name:   "reference spellings",
			script: "/alta u1\n/alta u2\n/baixa u1\n/llistar\n/exit\n",
			want: "added u1\nadded u2\nremoved u1\n" +
				"NAME  AGENT           STATE    LAST SEEN\n" +
				"u2    not registered  OFFLINE  -\n",
		},
		{
			name:   "slash spellings",
			script: "/add u1\n/remove u1\n/list\n/quit\n",
			want:   "added u1\nremoved u1\nno users\n",
		},
		{
			name:   "list shows agents, state and last seen",
			users:  []UserInfo{carol, alice, bob},
			script: "list\nquit\n",
			want: "NAME   AGENT                 STATE    LAST SEEN\n" +
				"alice  10.100.100.101:51189  ONLINE   2024-05-01T10:00:00Z\n" +
				"bob    not registered        OFFLINE  -\n" +
				"carol  10.0.0.3:4000         OFFLINE  2024-05-01T12:30:05+02:00\n",
		},
		{
			name:   "errors from the table",
			users:  []UserInfo{alice},
			script: "add alice\nremove bob\nadd boom\nremove boom\nquit\n",
			want: "alice already exists\n" +
				"no such user: bob\n" +
				"add boom: table is read-only\n" +
				"remove boom: table is read-only\n",
		},
		{
			name:   "remove of an online user says the consequence, once",
			users:  []UserInfo{alice, bob, carol},
			script: "remove alice\nremove bob\nremove carol\nquit\n",
			want: "removed alice (online at 10.100.100.101:51189: the agent is not told; its next PR will be refused (RR1), and locates of alice get RL2)\n" +
				"removed bob\n" +
				"removed carol\n",
		},
		{
			name:   "bad names",
			script: "add\nremove\nadd a@b\n/alta x:y\nadd two words\nadd tab\tname\nadd ctl\x01\nquit\n",
			want: "usage: add NAME\n" +
				"usage: remove NAME\n" +
				"invalid user name \"a@b\": field \"user\" at offset 1: bad field: byte '@' not allowed\n" +
				"invalid user name \"x:y\": field \"user\" at offset 1: bad field: byte ':' not allowed\n" +
				"invalid user name \"two words\": field \"user\" at offset 3: bad field: byte ' ' not allowed\n" +
				"invalid user name \"tab\\tname\": field \"user\" at offset 3: bad field: byte 0x09 not allowed\n" +
				"invalid user name \"ctl\\x01\": field \"user\" at offset 3: bad field: byte 0x01 not allowed\n",
		},
		{
			name:   "unknown commands and blank lines",
			script: "\n   \nfrobnicate now\n/alt u1\nquit\n",
			want: "unknown command \"frobnicate\"; type help\n" +
				"unknown command \"/alt\"; type help\n",
		},
		{
			name:   "spacing and case",
			script: "  ADD   alice  \r\n\tList\nQUIT\n",
			want: "added alice\n" +
				"NAME   AGENT           STATE    LAST SEEN\n" +
				"alice  not registered  OFFLINE  -\n",
		},
		{
			name:   "help",
			script: "help\n/help\nquit\n",
			want:   helpText + helpText,
		},
		{
			name:   "nothing runs after quit",
			script: "quit\nadd alice\n",
			want:   "",
		},
		{
			name:    "end of input",
			script:  "add alice\n",
			want:    "added alice\n",
			wantErr: ErrConsoleEOF,
		},
		{
			name:    "last line without newline",
			script:  "add alice",
			want:    "added alice\n",
			wantErr: ErrConsoleEOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := RunConsole(context.Background(), strings.NewReader(tt.script), &out, newFakeAdmin(tt.users...))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("RunConsole = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// After cancel the console returns at once, and its reader goroutine ends
// as soon as its pending Read returns, whatever that Read brings.
func TestRunConsoleContextCancel(t *testing.T) {
	afterCancel := map[string]func(pw *io.PipeWriter){
		"input closed":  func(pw *io.PipeWriter) { pw.Close() },
		"one more line": func(pw *io.PipeWriter) { io.WriteString(pw, "list\n") },
	}
	for name, then := range afterCancel {
		t.Run(name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			pr, pw := io.Pipe()
			defer pw.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var out syncbuf.Buffer
			result := make(chan error, 1)
			go func() { result <- RunConsole(ctx, pr, &out, newFakeAdmin()) }()

			// Once the answer is out, the reader can only be heading into
			// its next Read, which blocks: cancel must still end the console.
			io.WriteString(pw, "add alice\n")
			waitFor(t, "the answer to add", func() bool { return out.String() == "added alice\n" })
			cancel()
			select {
			case err := <-result:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("RunConsole = %v, want %v", err, context.Canceled)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("RunConsole did not return after cancel")
			}

			then(pw)
			waitFor(t, "the reader goroutine to end", func() bool { return runtime.NumGoroutine() <= baseline })
			if got := out.String(); got != "added alice\n" {
				t.Errorf("output after cancel = %q, want only the answer to add", got)
			}
		})
	}
}

// waitFor polls cond for a few seconds; only a condition that never comes
// true fails, the timing is not asserted.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type brokenReader struct{}

var errBrokenTTY = errors.New("tty gone")

func (brokenReader) Read([]byte) (int, error) { return 0, errBrokenTTY }

func TestRunConsoleReadError(t *testing.T) {
	err := RunConsole(context.Background(), brokenReader{}, io.Discard, newFakeAdmin())
	if !errors.Is(err, errBrokenTTY) {
		t.Errorf("RunConsole = %v, want %v", err, errBrokenTTY)
	}
}

// TestConsoleRemoveOnline: removing a user whose agent is registered says
// so on one line, with where the agent is and what it means, and it is
// so: the agent's next PR is refused.
func TestConsoleRemoveOnline(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"laura", "marc"}, nil)
	a := newAgent(t)
	pr, err := (&wire.Register{Addr: wire.Address{User: "laura", Domain: "bb.com"}}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	rr0, _ := (&wire.RegisterReply{Code: wire.RegisterOK}).Append(nil)
	rr1, _ := (&wire.RegisterReply{Code: wire.RegisterRefused}).Append(nil)
	a.send(n.Addr(), string(pr))
	a.expect(n.Addr(), string(rr0))
	var out strings.Builder
	if err := RunConsole(context.Background(), strings.NewReader("remove Laura\nremove marc\nquit\n"), &out, n); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("removed laura (online at %v: the agent is not told; its next PR will be refused (RR1), and locates of laura get RL2)\n"+
		"removed marc\n", a.addr())
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
	a.send(n.Addr(), string(pr))
	a.expect(n.Addr(), string(rr1))
}
