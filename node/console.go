package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Admin is what the console needs from the node.
type Admin interface {
	AddUser(name string) error    // ErrUserExists if name is already a user
	RemoveUser(name string) error // ErrUnknownUser if name is not a user
	Users() []UserInfo            // sorted by name
}

// UserInfo is one user as the console lists it. Agent is the zero
// (invalid) AddrPort when the user has never registered; LastSeen is zero
// when nothing was ever heard from the user.
type UserInfo struct {
	Name     string
	Agent    netip.AddrPort
	Online   bool
	LastSeen time.Time
}

var (
	// ErrUserExists and ErrUnknownUser are what an Admin returns (possibly
	// wrapped) so that the console can word the answer for the user.
	ErrUserExists  = errors.New("user already exists")
	ErrUnknownUser = errors.New("no such user")
	// ErrConsoleEOF is returned by RunConsole when its input ends: the node
	// goes on serving (the reference died there, so it could not run as a
	// service).
	ErrConsoleEOF = errors.New("console input closed")
)

// RunConsole reads commands from in, one per line, runs them on a and
// writes the answers to out. It returns nil after "quit", ErrConsoleEOF
// when in ends, another error if reading in fails, and ctx.Err() when ctx
// is done.
//
// Lines are read by a goroutine so that RunConsole can return on ctx even
// while in blocks; that goroutine ends when a Read on in returns (at once
// for an input that is closed or at EOF), never later.
func RunConsole(ctx context.Context, in io.Reader, out io.Writer, a Admin) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go readLines(in, lines, readErr, done)

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			if !ok {
				return <-readErr
			}
			if runCommand(out, a, line) == stop {
				return nil
			}
		}
	}
}

// readLines sends each line of in on lines until in ends or done closes,
// then closes lines with the reason in readErr.
func readLines(in io.Reader, lines chan<- string, readErr chan<- error, done <-chan struct{}) {
	defer close(lines)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		case <-done:
			readErr <- nil
			return
		}
	}
	if err := sc.Err(); err != nil {
		readErr <- fmt.Errorf("console: %w", err)
		return
	}
	readErr <- ErrConsoleEOF
}

type next bool

const (
	goOn next = false
	stop next = true
)

// commands maps every accepted spelling, the reference's Catalan ones
// included, to its handler.
var commands = map[string]func(out io.Writer, a Admin, arg string) next{
	"add": cmdAdd, "/add": cmdAdd, "/alta": cmdAdd,
	"remove": cmdRemove, "/remove": cmdRemove, "/baixa": cmdRemove,
	"list": cmdList, "/list": cmdList, "/llistar": cmdList,
	"help": cmdHelp, "/help": cmdHelp,
	"quit": cmdQuit, "/quit": cmdQuit, "/exit": cmdQuit,
}

func runCommand(out io.Writer, a Admin, line string) next {
	line = strings.TrimSpace(line)
	if line == "" {
		return goOn
	}
	name, arg := line, ""
	if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
		name, arg = line[:i], strings.TrimSpace(line[i:])
	}
	cmd, ok := commands[strings.ToLower(name)]
	if !ok {
		fmt.Fprintf(out, "unknown command %q; type help\n", name)
		return goOn
	}
	return cmd(out, a, arg)
}

const helpText = `commands:
  add NAME      add user NAME to this domain    (also /add, /alta)
  remove NAME   remove user NAME                (also /remove, /baixa)
  list          list the users and their state  (also /list, /llistar)
  help          show this help                  (also /help)
  quit          stop the node                   (also /quit, /exit)
`

func cmdHelp(out io.Writer, _ Admin, _ string) next {
	io.WriteString(out, helpText)
	return goOn
}

func cmdQuit(io.Writer, Admin, string) next { return stop }

func cmdAdd(out io.Writer, a Admin, name string) next {
	if !usableName(out, "add", name) {
		return goOn
	}
	switch err := a.AddUser(name); {
	case err == nil:
		fmt.Fprintf(out, "added %s\n", name)
	case errors.Is(err, ErrUserExists):
		fmt.Fprintf(out, "%s already exists\n", name)
	default:
		fmt.Fprintf(out, "add %s: %v\n", name, err)
	}
	return goOn
}

// userLooker is an Admin that finds one user without listing them all.
type userLooker interface {
	User(name string) (UserInfo, bool) // compared without case
}

// userInfo returns name's state (compared without case, as the node looks
// users up), before a removal.
func userInfo(a Admin, name string) (UserInfo, bool) {
	if l, ok := a.(userLooker); ok {
		return l.User(name)
	}
	for _, u := range a.Users() {
		if strings.EqualFold(u.Name, name) {
			return u, true
		}
	}
	return UserInfo{}, false
}

// cmdRemove removes a user, and says in the same one line what that means
// for a user who is online: nothing tells the agent, whose next PR is
// refused (RR1), as are the locates of the user (RL2).
func cmdRemove(out io.Writer, a Admin, name string) next {
	if !usableName(out, "remove", name) {
		return goOn
	}
	before, known := userInfo(a, name)
	switch err := a.RemoveUser(name); {
	case err == nil && known && before.Online:
		fmt.Fprintf(out, "removed %s (online at %s: the agent is not told; its next PR will be refused (RR1), and locates of %s get RL2)\n",
			before.Name, agentText(before.Agent), before.Name)
	case err == nil:
		fmt.Fprintf(out, "removed %s\n", name)
	case errors.Is(err, ErrUnknownUser):
		fmt.Fprintf(out, "no such user: %s\n", name)
	default:
		fmt.Fprintf(out, "remove %s: %v\n", name, err)
	}
	return goOn
}

// usableName checks the argument of add and remove, and says what is
// wrong with it; the whole rest of the line is the name, so that "add a b"
// is reported as a bad name rather than half obeyed.
func usableName(out io.Writer, cmd, name string) bool {
	if name == "" {
		fmt.Fprintf(out, "usage: %s NAME\n", cmd)
		return false
	}
	if err := checkUserName(name); err != nil {
		fmt.Fprintln(out, err)
		return false
	}
	return true
}

func cmdList(out io.Writer, a Admin, _ string) next {
	users := a.Users()
	if len(users) == 0 {
		io.WriteString(out, "no users\n")
		return goOn
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	io.WriteString(tw, "NAME\tAGENT\tSTATE\tLAST SEEN\n")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, agentText(u.Agent), stateText(u.Online), lastSeenText(u.LastSeen))
	}
	tw.Flush()
	return goOn
}

func agentText(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return "not registered"
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

func stateText(online bool) string {
	if online {
		return "ONLINE"
	}
	return "OFFLINE"
}

func lastSeenText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}
