package spec

// uint8Base is a decimal 0..255: a TTL, a hop count, a small version
// number. Everything but its name and width is the decimal it shares with
// uint16.
type uint8Base struct{ decimal }

func (uint8Base) Name() string { return Uint8 }
