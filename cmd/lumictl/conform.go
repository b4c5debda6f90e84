package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"mi/internal/atomicfile"
	"mi/internal/conform"
)

// conformTable is the scenario table the conform command plays: spec/mi.spec's.
var conformTable = conform.Scenarios

var conformCommand = &command{
	name:     "conform",
	synopsis: "list|node|agent [flags]",
	summary:  "play the conformance scenarios of spec/mi.spec against a LUMI node or an MI agent",
	help: `
lumictl conform checks another implementation, or ours, the way SIPp
checks a SIP server: it plays the agents and nodes around it over real
sockets, sends what each scenario of spec/mi.spec says, and checks what
comes back and when.

  lumictl conform list [-json]
  lumictl conform node -target HOST:PORT -domain D -users U1,U2,U3
                       [-remote-domain R -remote-listen HOST:PORT] [flags]
  lumictl conform agent -node-listen HOST:PORT -addr USER@DOMAIN
                       [-exec 'COMMAND'] [flags]

Run 'lumictl conform node -h' or 'lumictl conform agent -h' for the flags.
Output is TAP version 14 on stdout, or one JSON object per scenario with
-json; -diagram FILE also draws each failed scenario's exchange as a
Mermaid sequence diagram in the Markdown file FILE. Exit status: 0 every
scenario played passed (skips allowed); 1 one failed; 2 bad usage, or a
run that could not be played (the implementation never answered).`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		return func(e *env, args []string) error {
			if len(args) == 0 {
				return usagef("want a subcommand: list, node or agent")
			}
			for _, sub := range conformSubs {
				if sub.name == args[0] {
					return sub.run(e, args[1:])
				}
			}
			return usagef("unknown subcommand %q: want list, node or agent", args[0])
		}
	},
}

// conformSub is a subcommand of conform.
type conformSub struct {
	name, synopsis, help string
	setup                func(fs *flag.FlagSet) func(*env, []string) error
}

var conformSubs = []*conformSub{conformList, conformNode, conformAgent}

// run parses the subcommand's flags and runs it. Usage errors print the
// subcommand's synopsis and end with exit status 2.
func (s *conformSub) run(e *env, args []string) error {
	name := "lumictl conform " + s.name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {}
	main := s.setup(fs)
	short := func() {
		fmt.Fprintf(e.stderr, "usage: %s %s\nRun '%s -h' for details.\n", name, s.synopsis, name)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stderr, "usage: %s %s\n\n%s\n\nFlags:\n", name, s.synopsis, strings.TrimSpace(s.help))
			fs.PrintDefaults()
			return nil
		}
		short()
		return &exitError{exitUsage}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		short()
		return &exitError{exitUsage}
	}
	err := main(e, fs.Args())
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s: %s\n", name, ue.msg)
		short()
		return &exitError{exitUsage}
	case errors.Is(err, conform.ErrSetup):
		fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
		return &exitError{exitUsage}
	}
	return err
}

var conformList = &conformSub{
	name:     "list",
	synopsis: "[-json]",
	help: `Lists every scenario: its id, target (node or agent), class (core, robust,
strict), whether it needs -exec, and title. With -json, one object per
line: {"id", "target", "class", "title", "exec", "line", "steps"}, line
being the scenario's line in spec/mi.spec.`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		asJSON := fs.Bool("json", false, "one JSON object per scenario")
		return func(e *env, _ []string) error {
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				for _, sc := range conform.Positions(conformTable) {
					enc.Encode(map[string]any{"id": sc.ID, "target": sc.Target, "class": sc.Class, "title": sc.Title,
						"exec": sc.Exec, "line": sc.Line, "steps": len(sc.Steps)})
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTARGET\tCLASS\tEXEC\tTITLE")
			for _, sc := range conformTable {
				ex := ""
				if sc.Exec {
					ex = "exec"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sc.ID, sc.Target, sc.Class, ex, sc.Title)
			}
			return tw.Flush()
		}
	},
}

// selection are the flags every run takes.
type selection struct {
	classes, run string
	features     string
	json         bool
	diagram      string
	timeout      time.Duration
}

func (s *selection) define(fs *flag.FlagSet) {
	fs.StringVar(&s.classes, "class", "", "play only these classes, comma separated: "+strings.Join(conform.Classes, ","))
	fs.StringVar(&s.run, "run", "", "play only the scenarios whose id matches this `regexp`")
	fs.StringVar(&s.features, "features", "", "also play the scenarios of these optional features, comma separated: "+strings.Join(conform.Features, ",")+" (skipped by default)")
	fs.BoolVar(&s.json, "json", false, "one JSON object per scenario instead of TAP")
	fs.StringVar(&s.diagram, "diagram", "", "write each failed scenario's exchange to this Markdown `file` as a Mermaid sequence diagram (an empty file when none failed)")
	fs.DurationVar(&s.timeout, "timeout", conform.DefaultTimeout, "the window of a step whose scenario gives none")
}

// apply checks the flags and sets them in cfg.
func (s *selection) apply(cfg *conform.Config) error {
	if s.classes != "" {
		for _, c := range strings.Split(s.classes, ",") {
			if !slices.Contains(conform.Classes, c) {
				return usagef("-class: unknown class %q (the classes are %s)", c, strings.Join(conform.Classes, ", "))
			}
			cfg.Classes = append(cfg.Classes, c)
		}
	}
	if s.features != "" {
		for _, f := range strings.Split(s.features, ",") {
			if !slices.Contains(conform.Features, f) {
				return usagef("-features: unknown feature %q (the features are %s)", f, strings.Join(conform.Features, ", "))
			}
			cfg.Features = append(cfg.Features, f)
		}
	}
	if s.run != "" {
		re, err := regexp.Compile(s.run)
		if err != nil {
			return usagef("-run: %v", err)
		}
		cfg.Run = re
	}
	if s.timeout <= 0 {
		return usagef("-timeout must be positive")
	}
	cfg.Timeout = s.timeout
	return nil
}

// play runs the scenarios and turns the outcome into an exit status.
func (s *selection) play(e *env, cfg conform.Config) error {
	if s.diagram != "" {
		// Emptied first: no diagram of an earlier run stays, and a path
		// that cannot be written is found before the run.
		if err := atomicfile.WriteFile(s.diagram, nil, 0o644); err != nil {
			return usagef("-diagram: %v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var rep conform.Reporter = conform.NewTAP(e.stdout)
	if s.json {
		rep = conform.NewJSON(e.stdout)
	}
	cfg.Log = e.stderr
	results, err := conform.Run(ctx, cfg, conformTable, rep)
	if err != nil {
		return err
	}
	var pass, fail, skip int
	for _, r := range results {
		switch r.Status {
		case conform.Pass:
			pass++
		case conform.Fail:
			fail++
		default:
			skip++
		}
	}
	fmt.Fprintf(e.stderr, "conform: %d passed, %d failed, %d skipped\n", pass, fail, skip)
	if fail > 0 && s.diagram != "" {
		if err := atomicfile.WriteFile(s.diagram, conform.DiagramMarkdown(results), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "conform: the failed scenarios are drawn in %s\n", s.diagram)
	}
	if fail > 0 {
		return errFailed
	}
	return nil
}

// diagramHelp is the paragraph of -diagram in the help of node and agent.
const diagramHelp = `
With -diagram FILE the tool writes FILE, a Markdown page: for each failed
scenario a heading (its id and title) and a Mermaid sequence diagram of
its exchange, as docs/protocol.md draws the spec's sequences: every
datagram and message an arrow with its bytes (quoted when not printable),
every event a note, the failed step last. FILE is emptied when the run
starts and stays empty when nothing fails.
`

var conformNode = &conformSub{
	name:     "node",
	synopsis: "-target HOST:PORT -domain D -users U1,U2,U3 [-remote-domain R -remote-listen HOST:PORT] [-features F -locate-wait D] [-class C] [-run REGEXP] [-json] [-diagram FILE] [-timeout D]",
	help: `Plays the node scenarios against the LUMI node at -target, which serves
-domain with at least the three -users in its config ($user1..$user3). The
tool plays agents, each from a socket of its own, and cleans up after each
scenario (what a scenario registered it deregisters). Before the first
scenario it checks that the node answers at all.

Scenarios of an optional feature are skipped unless -features names it.
The feature offline checks offline detection: five locates in a row that
the target's agent leaves unanswered mark its user offline. Each is waited
out for 1.5 times the node's locate wait, which the tool cannot learn from
the wire: give it as -locate-wait (default 6s, lumi-node's), and start the
node with a short one to keep the run short (lumi-node -locate-wait 200ms,
then -features offline -locate-wait 200ms: about 2s).

With -remote-domain and -remote-listen the tool also plays the node of that
other domain on that UDP address: start the node under test so that it
finds the domain there (ours: -peer R=HOST:PORT). Without them the
scenarios that need it are skipped.
` + diagramHelp + `
Examples:
  lumi-node -config bb.cfg -listen 127.0.0.1:3344 -peer cc.org=127.0.0.1:3345 &
  lumictl conform node -target 127.0.0.1:3344 -domain bb.com -users laura,marc,anna \
      -remote-domain cc.org -remote-listen 127.0.0.1:3345
  lumictl conform node -target 10.0.0.5:3344 -domain PC-c -users u1,u2,u3 -class core -json
  lumictl conform node -target 127.0.0.1:3344 -domain bb.com -users a,b,c -run '^LOC-'
  lumictl conform node -target 127.0.0.1:3344 -domain bb.com -users a,b,c -diagram failed.md
  lumi-node -config bb.cfg -listen 127.0.0.1:3344 -locate-wait 200ms &
  lumictl conform node -target 127.0.0.1:3344 -domain bb.com -users a,b,c -features offline -locate-wait 200ms`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var cfg conform.Config
		var users string
		var sel selection
		fs.StringVar(&cfg.NodeAddr, "target", "", "the node under test, UDP `host:port`")
		fs.StringVar(&cfg.Domain, "domain", "", "the node's domain")
		fs.StringVar(&users, "users", "", "three or more users of the node's config, comma separated")
		fs.StringVar(&cfg.RemoteDomain, "remote-domain", "", "another domain, whose node the tool plays")
		fs.StringVar(&cfg.RemoteListen, "remote-listen", "", "UDP `host:port` to play -remote-domain's node on")
		fs.DurationVar(&cfg.LocateWait, "locate-wait", conform.DefaultLocateWait, "how long the node waits for the RL to a PL it forwards (lumi-node -locate-wait): the offline scenario waits out five locates of 1.5 times this")
		sel.define(fs)
		return func(e *env, _ []string) error {
			cfg.Target = "node"
			switch {
			case cfg.NodeAddr == "" || cfg.Domain == "" || users == "":
				return usagef("-target, -domain and -users are required")
			case (cfg.RemoteDomain == "") != (cfg.RemoteListen == ""):
				return usagef("give -remote-domain and -remote-listen together")
			case cfg.LocateWait <= 0:
				return usagef("-locate-wait must be positive")
			}
			cfg.Users = strings.Split(users, ",")
			if len(cfg.Users) < 3 {
				return usagef("-users: need 3 users, got %d", len(cfg.Users))
			}
			if err := sel.apply(&cfg); err != nil {
				return err
			}
			return sel.play(e, cfg)
		}
	},
}

var conformAgent = &conformSub{
	name:     "agent",
	synopsis: "-node-listen HOST:PORT -addr USER@DOMAIN [-exec 'COMMAND'] [-features F] [-class C] [-run REGEXP] [-json] [-diagram FILE] [-timeout D]",
	help: `Plays the agent scenarios against the MI agent of -addr: the tool plays
its node on -node-listen (UDP) and calls it over TCP.

With -exec the tool starts the agent itself with sh -c COMMAND, {node}
replaced by the node's ip:port and {addr} by -addr; its stdin is a pipe,
and the last lines of its output show in a failure. The scenarios that
restart the agent, type on its stdin or wait for it to exit need -exec
and are skipped without it; the others share one agent, which the tool
starts (or you start, without -exec, pointing it at -node-listen) and
whose registration it answers before the first of them.
` + diagramHelp + `
Examples:
  lumictl conform agent -node-listen 127.0.0.1:3344 -addr laura@bb.com \
      -exec 'mi-agent -addr {addr} -node {node} -log -'
  lumictl conform agent -node-listen 127.0.0.1:3344 -addr laura@bb.com   # then start the agent
  lumictl conform agent -node-listen 127.0.0.1:0 -addr u1@PC-c -exec './p2p {addr} {node}' -json
  lumictl conform agent -node-listen 127.0.0.1:0 -addr u1@PC-c -exec './p2p {addr} {node}' -diagram failed.md`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var cfg conform.Config
		var sel selection
		fs.StringVar(&cfg.NodeListen, "node-listen", "", "UDP `host:port` to play the agent's node on")
		fs.StringVar(&cfg.Addr, "addr", "", "the agent's address, `user@domain`")
		fs.StringVar(&cfg.Exec, "exec", "", "shell `command` that starts the agent ({node}, {addr} substituted)")
		fs.DurationVar(&cfg.RegisterTimeout, "register-timeout", 0, "how long the agent has to register before the first scenario (default 10s with -exec, 30s without)")
		sel.define(fs)
		return func(e *env, _ []string) error {
			cfg.Target = "agent"
			if cfg.NodeListen == "" || cfg.Addr == "" {
				return usagef("-node-listen and -addr are required")
			}
			if err := sel.apply(&cfg); err != nil {
				return err
			}
			return sel.play(e, cfg)
		}
	},
}
