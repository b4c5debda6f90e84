package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"mi/internal/atomicfile"
	"mi/plumi"
	"mi/wire"
)

// The state file (Config.StatePath) keeps, across restarts, the UDP port
// the agent last registered from. A node accepts a PR from the address a
// user is registered at at once, and checks the registered agent before it
// lets any other address take the user (a PR from elsewhere is a
// takeover): so an agent that restarts on the port it registered from gets
// its user back at once, even while a stranger keeps asking for it, where
// one on a new port is a stranger itself.
//
// Why a file, rather than a port derived from the address: a port anyone
// can compute from laura@bb.com tells an off-path attacker where laura's
// agent is, and one spoofed PD from there takes her offline; a port the
// system chose at random and that only the agent's host keeps must be
// swept for (see docs/robustness.md).
//
// The file is a few lines of "key value", written atomically (temp file,
// fsync, rename): a crash leaves the old state or the new one.
//
//	# mi-agent: the UDP port laura@bb.com registered from last; ...
//	addr laura@bb.com
//	port 51189
//
// It is used only for the address it names; a file that cannot be read or
// parsed is reported and ignored, as is a port that is taken: the agent
// then registers from any port.

// savedState is what the state file holds.
type savedState struct {
	addr wire.Address
	port uint16
}

// readState reads the state file at path. A file that does not exist is
// no state and no error.
func readState(path string) (savedState, error) {
	var s savedState
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		v = strings.TrimSpace(v)
		switch k {
		case "addr":
			if s.addr, err = wire.ParseAddress(v); err != nil {
				return savedState{}, fmt.Errorf("%s:%d: addr: %v", path, n, err)
			}
		case "port":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil || p == 0 {
				return savedState{}, fmt.Errorf("%s:%d: port %q is not a port number", path, n, v)
			}
			s.port = uint16(p)
		}
	}
	return s, nil
}

// portFor is the port the state holds for addr; 0 for none.
func (s savedState) portFor(addr wire.Address) uint16 {
	if !plumi.SameAddr(s.addr, addr) {
		return 0
	}
	return s.port
}

// writeState replaces the state file at path with s, atomically.
func writeState(path string, s savedState) error {
	text := fmt.Sprintf("# mi-agent: the UDP port %s registered from last; it registers from it again after a restart\naddr %s\nport %d\n",
		s.addr, s.addr, s.port)
	return atomicfile.WriteFile(path, []byte(text), 0o644)
}
