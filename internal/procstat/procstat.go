// Package procstat reads this process's own figures from /proc, for the
// start-up log and the load generator's report.
package procstat

import (
	"bufio"
	"bytes"
	"os"
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
