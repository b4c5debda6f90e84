package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"mi/internal/fileerr"
	"mi/lumi"
	"mi/plumi"
	"mi/wire"
)

// Exit statuses of the client subcommands, one per outcome; 0 and 2 are
// success and bad usage as for every subcommand.
var clientExit = map[string]int{
	"internal":       exitFailed,
	"network_error":  exitFailed,
	"user_unknown":   3,
	"domain_unknown": 4,
	"busy":           5,
	"offline":        6,
	"node_timeout":   7,
	"refused":        8,
	"dns_failure":    9,
	"auth_required":  12,
	// 10 and 11 are lumictl resolve's.
	"node_unreachable": 13,
}

const clientExitHelp = `Exit status: 0 done; 2 bad usage or address; 3 user unknown; 4 domain
unknown (no node found for it: the address's domain, or for locate TO's);
5 busy; 6 offline; 7 the node did not answer; 8 refused; 9 DNS failed
looking for a domain's node (the domain may exist); 12 the node
requires proof of the user's secret (authenticated registration, which
lumictl does not do); 13 nothing listens at the node's address (an ICMP
port unreachable came back: said at once, without the other attempts);
1 anything else. The reason is printed to stderr as
"REASON: message", REASON a snake_case word (user_unknown, busy, ...).`

// clientFlags are the flags shared by the client subcommands.
type clientFlags struct {
	node, dns, hosts string
	attempts         int
	retry            time.Duration
	port             uint
}

func (f *clientFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.node, "node", "", "the node's host:port (default: resolve the domain of the address)")
	fs.StringVar(&f.dns, "dns", "", "DNS server host:port for finding nodes (default: /etc/resolv.conf)")
	fs.StringVar(&f.hosts, "hosts", "", "hosts file for finding nodes (default "+lumi.DefaultHostsFile+`; "-" for none)`)
	fs.IntVar(&f.attempts, "attempts", wire.Attempts, "sends per request")
	fs.DurationVar(&f.retry, "retry", wire.RetryInterval, "wait for a reply before sending again")
	fs.UintVar(&f.port, "port", 0, "send from this local UDP `port` (default: any free one); see \"Ports\" below")
}

const clientPortHelp = `Ports: a node takes a PD or a PL of one of its users only from the address
the user registered from. Give the same -port to register, locate and
deregister so that they share it; without it, each run sends from a new
port, and a registration points at a socket that closes when the command
ends.`

// client opens a LUMI client to the node of addr's domain. Its resolver
// finds that node unless -node is given, and tells what an RL2 means (see
// plumi.Config.Resolver). The resolver's warnings (records over its caps)
// go to stderr, for the operator.
func (f *clientFlags) client(ctx context.Context, stderr io.Writer, addr wire.Address) (*plumi.Client, error) {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := lumi.CheckHostsFile(f.hosts); err != nil {
		return nil, usagef("%v", fileerr.Flag("-hosts", f.hosts, err))
	}
	res, err := lumi.NewResolver(lumi.Config{DNSServer: f.dns, HostsFile: f.hosts, Logger: log})
	if err != nil {
		return nil, usagef("%v", err)
	}
	var ap netip.AddrPort
	if f.node != "" {
		if ap, err = plumi.ParseNode(f.node); err != nil {
			return nil, usagef("-node: %v", err)
		}
	} else if ap, err = res.Resolve(ctx, addr.Domain); err != nil {
		return nil, plumi.LookupFailed(addr.Domain, err)
	}
	if f.port > 65535 {
		return nil, usagef("-port %d: not a UDP port", f.port)
	}
	return plumi.NewClient(plumi.Config{Node: ap, Attempts: f.attempts, RetryInterval: f.retry, LocalPort: uint16(f.port), Resolver: res})
}

// outcome turns a client error into the exit status, printing the reason.
func outcome(e *env, err error) error {
	var ue *usageError
	if err == nil || errors.As(err, &ue) {
		return err
	}
	reason := plumi.ReasonOf(err)
	fmt.Fprintf(e.stderr, "%s: %v\n", reason, err)
	code, ok := clientExit[reason]
	if !ok || code == exitFailed {
		return errFailed
	}
	return &exitError{code}
}

func parseAddrArg(name, s string) (wire.Address, error) {
	a, err := wire.ParseAddress(s)
	if err != nil {
		return a, usagef("%s %q: %v", name, s, err)
	}
	return a, nil
}

// addrCommand makes register and deregister, which differ in one call.
func addrCommand(name, summary string, do func(context.Context, *plumi.Client, wire.Address) error) *command {
	return &command{
		name:     name,
		synopsis: "[-node host:port] [-dns host:port] [-port N] ADDR",
		summary:  summary,
		help:     "ADDR is user@domain. Prints \"ok\" on success.\n\n" + clientPortHelp + "\n\n" + clientExitHelp,
		setup: func(fs *flag.FlagSet) func(*env, []string) error {
			var f clientFlags
			f.define(fs)
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want ADDR, got %d arguments", len(args))
				}
				a, err := parseAddrArg("ADDR", args[0])
				if err != nil {
					return err
				}
				ctx := context.Background()
				c, err := f.client(ctx, e.stderr, a)
				if err != nil {
					return outcome(e, err)
				}
				defer c.Close()
				if err := do(ctx, c, a); err != nil {
					return outcome(e, err)
				}
				if name == "register" && f.port == 0 {
					fmt.Fprintf(e.stderr, "lumictl: warning: %s is registered at %v, which closes now: use -port to keep an address\n", a, c.LocalAddr())
				}
				fmt.Fprintln(e.stdout, "ok")
				return nil
			}
		},
	}
}

var registerCommand = addrCommand("register", "register ADDR with its node from this command's socket (PR)",
	func(ctx context.Context, c *plumi.Client, a wire.Address) error { return c.Register(ctx, a) })

var deregisterCommand = addrCommand("deregister", "deregister ADDR (PD); the node accepts it from the registered address only",
	func(ctx context.Context, c *plumi.Client, a wire.Address) error { return c.Deregister(ctx, a) })

var locateCommand = &command{
	name:     "locate",
	synopsis: "[-node host:port] [-dns host:port] [-port N] FROM TO",
	summary:  "ask FROM's node where TO chats (PL) and print its ip:port",
	help: `FROM and TO are user@domain; the request goes to the node of FROM's
domain. Prints the ip:port of TO's chat socket. FROM's node answers
only if FROM registered from this command's address (-port): without
-port locate warns, and a locate left unanswered names this as the
likely cause.

A node answers RL2 both for a user unknown to TO's domain and for a
domain it finds no node for. When TO is of another domain than FROM,
locate looks up TO's node itself (-dns, -hosts), while the node
locates, to tell them apart: user_unknown (3) only when the domain has a
node, domain_unknown (4) when it has none, dns_failure (9) when the
lookup failed, as mi-agent says.

` + clientPortHelp + "\n\n" + clientExitHelp,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f clientFlags
		f.define(fs)
		return func(e *env, args []string) error {
			if len(args) != 2 {
				return usagef("want FROM TO, got %d arguments", len(args))
			}
			from, err := parseAddrArg("FROM", args[0])
			if err != nil {
				return err
			}
			to, err := parseAddrArg("TO", args[1])
			if err != nil {
				return err
			}
			ctx := context.Background()
			c, err := f.client(ctx, e.stderr, from)
			if err != nil {
				return outcome(e, err)
			}
			defer c.Close()
			ap, err := c.Locate(ctx, from, to)
			if errors.Is(err, plumi.ErrNodeTimeout) {
				err = fmt.Errorf("%w; the likely cause: a node drops a PL whose asker did not register from the address it came from, here %v (register %s with the same -port first)", err, c.LocalAddr(), from)
			}
			if err != nil {
				err = outcome(e, err)
			} else {
				fmt.Fprintln(e.stdout, ap)
			}
			// After the outcome, whose line stays the first on stderr.
			if f.port == 0 {
				fmt.Fprintf(e.stderr, "lumictl: warning: the PL left from %v, a port of this command alone: %s's node answers a PL only from where %s registered; give -port, the port it registered from\n", c.LocalAddr(), from, from)
			}
			return err
		}
	},
}
