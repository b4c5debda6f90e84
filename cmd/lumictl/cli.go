package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // a decode failure, a failed payload, an unreadable file
	exitUsage  = 2
)

// env is what a subcommand runs with; tests give it buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand. Adding a subcommand is adding one entry to
// commands.
type command struct {
	name     string
	synopsis string // the arguments after the name, e.g. "[-hex] MESSAGE"
	summary  string // one line, for the command list
	help     string // the rest of `lumictl NAME -h`, before the flags
	// setup defines the command's flags on fs and returns the function
	// that runs the command with the arguments left after the flags.
	setup func(fs *flag.FlagSet) func(e *env, args []string) error
}

// commands is the table of subcommands, in the order usage lists them.
var commands = []*command{
	decodeCommand,
	pcapCommand,
	registerCommand, deregisterCommand, locateCommand,
	resolveCommand,
	benchCommand, echoCommand,
	conformCommand,
	clusterCommand,
}

// usageError is bad arguments: the command's usage follows the message and
// the exit status is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errFailed ends a command that has already said what failed: exit status
// 1, no further message.
var errFailed = errors.New("failed")

// exitError ends a command that has already said what failed with its own
// exit status (the client commands have one per outcome).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run runs lumictl with args (without the program name) and returns the
// exit status.
func run(args []string, e *env) int {
	if len(args) == 0 {
		topUsage(e.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		topUsage(e.stderr)
		return exitOK
	case "help":
		if len(rest) == 0 {
			topUsage(e.stderr)
			return exitOK
		}
		name, rest = rest[0], []string{"-h"}
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(e.stderr, "lumictl: unknown command %q\nRun 'lumictl -h' for the list of commands.\n", name)
		return exitUsage
	}
	return c.run(rest, e)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run parses the command's flags and runs it.
func (c *command) run(args []string, e *env) int {
	fs := flag.NewFlagSet("lumictl "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {} // printed below: all of it for -h, a hint on errors
	main := c.setup(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(fs)
			return exitOK
		}
		c.shortUsage(e.stderr) // flag has printed the error
		return exitUsage
	}
	err := main(e, fs.Args())
	var ue *usageError
	var xe *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &xe):
		return xe.code
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "lumictl %s: %s\n", c.name, ue.msg)
		c.shortUsage(e.stderr)
		return exitUsage
	case errors.Is(err, errFailed):
		return exitFailed
	default:
		fmt.Fprintf(e.stderr, "lumictl %s: %v\n", c.name, err)
		return exitFailed
	}
}

// shortUsage prints the synopsis and where to find more.
func (c *command) shortUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: lumictl %s %s\nRun 'lumictl %s -h' for details.\n", c.name, c.synopsis, c.name)
}

// usage prints the command's full usage to the flag set's output.
func (c *command) usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "usage: lumictl %s %s\n\n%s\n", c.name, c.synopsis, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.PrintDefaults()
	}
}

// topUsage lists the commands.
func topUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: lumictl COMMAND [flags] [arguments]\n\n")
	fmt.Fprintf(w, "lumictl inspects MI traffic: PMI chat messages and PLUMI location datagrams.\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'lumictl COMMAND -h' for a command's flags and arguments.\n")
	fmt.Fprintf(w, "Exit status: 0 success, 1 failure (a message that does not decode, a bad\npayload), 2 bad usage; the client commands have one status per outcome\n(see lumictl locate -h).\n")
}
