// Package procstat reads figures from /proc: a process's status fields
// and UDP sockets, and the file system a directory is on; for the
// start-up log and the reports of lumictl bench and the tests.
package procstat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Field returns a field of /proc/self/status, e.g. Field("VmRSS") is
// "123456 kB", or "?" where there is no such file or field.
func Field(name string) string { return fieldOf("self", name) }

// FieldOf is Field of process pid.
func FieldOf(pid int, name string) string { return fieldOf(strconv.Itoa(pid), name) }

// RSSKiB is process pid's resident set size in KiB, or -1 where it cannot
// be read.
func RSSKiB(pid int) int {
	v, ok := strings.CutSuffix(FieldOf(pid, "VmRSS"), " kB")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func fieldOf(proc, name string) string {
	f, err := os.Open("/proc/" + proc + "/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := bytes.Cut(sc.Bytes(), []byte(":")); ok && string(k) == name {
			return string(bytes.TrimSpace(v))
		}
	}
	return "?"
}

// UDPSockets is how many UDP sockets (IPv4 or IPv6) process pid holds that
// are bound to port, such as a server's SO_REUSEPORT sockets on its
// address; -1 where that cannot be read.
func UDPSockets(pid int, port uint16) int {
	dir := "/proc/" + strconv.Itoa(pid)
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return -1
	}
	mine := map[uint64]bool{} // the inodes of its sockets
	for _, fd := range fds {
		if inode, ok := socketInode(dir + "/fd/" + fd.Name()); ok {
			mine[inode] = true
		}
	}
	socks, err := udpBound(dir, port)
	if err != nil {
		return -1
	}
	n := 0
	for _, s := range socks {
		if mine[s.Inode] {
			n++
		}
	}
	return n
}

// UDPSocket is a UDP socket as /proc/net/udp and /proc/net/udp6 list it.
type UDPSocket struct {
	Addr  netip.AddrPort // the address it is bound to; an IPv4 socket's is IPv4
	Inode uint64         // its inode, which names it (SocketInode)
}

// UDPBound lists the UDP sockets, IPv4 and IPv6, bound to port in this
// process's network namespace, whichever process holds them; an error
// where /proc/self/net/udp cannot be read (not Linux, no /proc).
func UDPBound(port uint16) ([]UDPSocket, error) { return udpBound("/proc/self", port) }

// udpBound is UDPBound in the network namespace of the process whose
// /proc directory is dir.
func udpBound(dir string, port uint16) ([]UDPSocket, error) {
	var socks []UDPSocket
	for _, table := range []string{"udp", "udp6"} {
		b, err := os.ReadFile(dir + "/net/" + table)
		if err != nil {
			if table == "udp" {
				return nil, err
			}
			continue // no IPv6
		}
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when
		// retrnsmt uid timeout inode ...; an address is HEX-IP:HEX-PORT.
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			ap, ok := parseProcAddr(f[1])
			if !ok || ap.Port() != port {
				continue
			}
			if inode, err := strconv.ParseUint(f[9], 10, 64); err == nil {
				socks = append(socks, UDPSocket{ap, inode})
			}
		}
	}
	return socks, nil
}

// parseProcAddr reads an address of /proc/net/udp ("0100007F:0D10") or
// udp6: the IP as 32-bit words, each printed in hex in the machine's byte
// order, then ":" and the port in hex.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	h, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil || (len(h) != 8 && len(h) != 32) {
		return netip.AddrPort{}, false
	}
	var ip []byte
	for i := 0; i < len(h); i += 8 {
		w, err := strconv.ParseUint(h[i:i+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, false
		}
		ip = binary.NativeEndian.AppendUint32(ip, uint32(w))
	}
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a, uint16(port)), true
}

// SocketInode is the inode of the socket c, as UDPBound gives it; an error
// where /proc cannot tell (not Linux, no /proc).
func SocketInode(c syscall.Conn) (uint64, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var inode uint64
	ok := false
	if err := rc.Control(func(fd uintptr) {
		inode, ok = socketInode("/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10))
	}); err != nil {
		return 0, err
	}
	if !ok {
		return 0, errors.New("procstat: cannot read the socket's inode from /proc/self/fd")
	}
	return inode, nil
}

// socketInode reads the inode of the socket that the link fd, in a /proc
// fd directory, names ("socket:[12345]").
func socketInode(fd string) (uint64, bool) {
	l, err := os.Readlink(fd)
	if err != nil {
		return 0, false // closed meanwhile, or no /proc
	}
	v, ok := strings.CutPrefix(l, "socket:[")
	if !ok {
		return 0, false
	}
	inode, err := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 64)
	return inode, err == nil
}

// FSType is the type of the file system dir is on ("ext4", "tmpfs"), from
// /proc/mounts, or "" where that cannot be told.
func FSType(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return ""
	}
	best, typ := -1, ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		mp := strings.ReplaceAll(f[1], `\040`, " ")
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= best {
			best, typ = len(mp), f[2]
		}
	}
	return typ
}
