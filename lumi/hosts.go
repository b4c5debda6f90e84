package lumi

import (
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// hostsFile keeps a parsed copy of a hosts file and reparses it only when
// its size or modification time changes, so edits take effect without a
// restart and an unchanged file costs one stat per lookup.
type hostsFile struct {
	path string // "" when disabled

	mu    sync.Mutex
	size  int64
	mtime time.Time
	names map[string]netip.Addr // lower-case FQDN -> first IPv4 address
}

func newHostsFile(path string) *hostsFile {
	if path == "-" {
		path = ""
	}
	return &hostsFile{path: path}
}

// CheckHostsFile returns the error of reading the hosts file at path, a
// Config.HostsFile that a user named, so that a program can refuse to start
// with one it cannot read: a Resolver takes a missing or unreadable file
// as one with no entries, as the hosts file may come and go while it runs.
// It is nil for "" (DefaultHostsFile, which a system may lack) and "-"
// (none).
func CheckHostsFile(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	_, err := os.ReadFile(path)
	return err
}

// lookup returns the IPv4 address of name (a lower-case FQDN). A missing or
// unreadable file simply has no entries: the hosts file is optional.
func (h *hostsFile) lookup(name string) (netip.Addr, bool) {
	if h.path == "" {
		return netip.Addr{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refresh()
	a, ok := h.names[name]
	return a, ok
}

func (h *hostsFile) refresh() {
	fi, err := os.Stat(h.path)
	if err != nil {
		h.names, h.size, h.mtime = nil, 0, time.Time{}
		return
	}
	if h.names != nil && fi.Size() == h.size && fi.ModTime().Equal(h.mtime) {
		return
	}
	data, err := os.ReadFile(h.path)
	if err != nil {
		h.names = nil
		return
	}
	h.names, h.size, h.mtime = parseHosts(data), fi.Size(), fi.ModTime()
}

// parseHosts reads hosts(5) lines "address name [aliases...]", keeping IPv4
// entries only; the first line naming a host wins, as in the C library.
func parseHosts(data []byte) map[string]netip.Addr {
	names := make(map[string]netip.Addr)
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(f[0])
		if err != nil || !addr.Unmap().Is4() || addr.Unmap().IsUnspecified() {
			continue
		}
		for _, n := range f[1:] {
			key := strings.ToLower(dns.Fqdn(n))
			if _, seen := names[key]; !seen {
				names[key] = addr.Unmap()
			}
		}
	}
	return names
}
