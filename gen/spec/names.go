package spec

import "strings"

// This file holds the Go names of the model's elements: the model refuses
// a spec whose names would collide once turned into Go (checkGoNames), and
// the back ends name things as it does.

// initialisms keep Go's spelling of common abbreviations.
var initialisms = map[string]string{}

func init() {
	for _, w := range strings.Fields("ACL API ASCII CPU CSS DNS EOF GUID HMAC HTML HTTP HTTPS ID IP JSON MAC OK QPS RAM RPC SMTP SQL SSH TCP TLS TTL UDP UI UID UUID URI URL UTF8 VM XML XMPP") {
		initialisms[strings.ToLower(w)] = w
	}
}

// Exported turns a spec name into an exported Go name: ttl -> TTL,
// peer_ip -> PeerIP, user -> User.
func Exported(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if v, ok := initialisms[strings.ToLower(part)]; ok {
			b.WriteString(v)
		} else if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// GoName is the suffix of a kind's Go functions: parseUser, checkAddress.
func (k *Kind) GoName() string {
	if k.GoType != "" {
		return k.GoType
	}
	return Exported(k.Name)
}

// CodeConst is the Go constant of a code: LocateCode Found -> LocateFound.
func CodeConst(k *Kind, c *Code) string {
	return strings.TrimSuffix(k.GoType, "Code") + c.Name
}

// FieldsOf lists the fields of items in wire order, descending into conditions.
func FieldsOf(items []Item) []*Field { return fieldsOf(items) }
