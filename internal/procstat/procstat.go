// Package procstat reads figures from /proc: a process's status fields
// and UDP sockets, and the file system a directory is on; for the
// start-up log and the reports of lumictl bench and the tests.
package procstat

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	mine := map[string]bool{} // the inodes of its sockets
	for _, fd := range fds {
		l, err := os.Readlink(dir + "/fd/" + fd.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(l, "socket:["); ok {
			mine[strings.TrimSuffix(inode, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"udp", "udp6"} {
		b, err := os.ReadFile(dir + "/net/" + table)
		if err != nil {
			if table == "udp" {
				return -1
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
			i := strings.LastIndexByte(f[1], ':')
			p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
			if err == nil && uint16(p) == port && mine[f[9]] {
				n++
			}
		}
	}
	return n
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
