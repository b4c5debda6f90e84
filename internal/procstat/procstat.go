// Package procstat reads this process's own figures from /proc, for the
// start-up log and the load generator's report.
package procstat

import (
	"bufio"
	"bytes"
	"os"
)

// Field returns a field of /proc/self/status, e.g. Field("VmRSS") is
// "123456 kB", or "?" where there is no such file or field.
func Field(name string) string {
	f, err := os.Open("/proc/self/status")
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
