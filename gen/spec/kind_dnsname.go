package spec

import "github.com/miekg/dns"

// dnsnameBase is a text that must also be a DNS name, as miekg/dns
// IsDomainName says.
type dnsnameBase struct{ textBase }

func (dnsnameBase) Name() string { return DNSName }

func (b dnsnameBase) Check(k *Kind, r *errs) {
	b.textBase.Check(k, r)
	if k.Max > 255 {
		r.errorf(k.limit(), "kind %s: max %d is over 255, the longest DNS name", k.Name, k.Max)
	}
}

func (dnsnameBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	v, err := decodeText(k, s, off, limit)
	if err == nil {
		if _, ok := dns.IsDomainName(v.(string)); !ok {
			return nil, wireErr("bad_field", "", off, "not a DNS name")
		}
	}
	return v, err
}

func (dnsnameBase) DocRules(k *Kind) []string { return append(textRules(k), "a valid DNS name") }

// A dnsname is a text whose receiver also checks it is a DNS name: a
// change between the two narrows or widens by that check.
func (dnsnameBase) textChecks() []string { return []string{"DNS names"} }

// Rules are the checks of the decoder as the IR states them (rules.go):
// dns_name is a DNS library's judgement, which no rule of the IR spells
// out; a spec that wants its names checked alike everywhere uses hostname.
func (dnsnameBase) Rules(k *Kind) []Rule {
	return append(textCheckRules(k), Rule{Check: "dns_name", Class: "bad_field", At: "start"})
}
