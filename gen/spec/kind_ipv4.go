package spec

// ipv4Base is a dotted quad of canonical decimal octets.
type ipv4Base struct{}

func (ipv4Base) Name() string { return IPv4 }

func (ipv4Base) Attrs() []string { return nil }

func (ipv4Base) Check(*Kind, *errs) {}

func (ipv4Base) Bounds(*Kind) (int, int) { return len("0.0.0.0"), len("255.255.255.255") }

func (ipv4Base) CanHold(_ *Kind, c byte) bool { return c == '.' || isDigit(c) }

func (ipv4Base) Width(*Kind) int { return 0 }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
