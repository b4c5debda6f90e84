package datalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a byte count for a flag such as -log-max, written with an
// optional K, M or G (powers of 1024): "100M". It is a flag.Value.
type Size int64

func (s *Size) String() string { return strconv.FormatInt(int64(*s), 10) }

// Set parses v.
func (s *Size) Set(v string) error {
	mult := int64(1)
	switch {
	case strings.HasSuffix(v, "K"):
		mult, v = 1<<10, strings.TrimSuffix(v, "K")
	case strings.HasSuffix(v, "M"):
		mult, v = 1<<20, strings.TrimSuffix(v, "M")
	case strings.HasSuffix(v, "G"):
		mult, v = 1<<30, strings.TrimSuffix(v, "G")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("want a size in bytes, with K, M or G if you like: %q", v)
	}
	*s = Size(n * mult)
	return nil
}
