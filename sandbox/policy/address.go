package policy

import (
	"fmt"
	"net/netip"
)

// AddressClass says what kind of network an IP address leads to. Every class
// but Public is refused at dial time unless the policy names the address
// (an IP literal or a CIDR in an allow rule).
type AddressClass int

const (
	Public      AddressClass = iota // anything not listed below
	Loopback                        // 127.0.0.0/8, ::1
	Unspecified                     // 0.0.0.0/8 ("this network"), ::
	Private                         // 10/8, 172.16/12, 192.168/16, fc00::/7
	SharedCGNAT                     // 100.64.0.0/10 (carrier-grade NAT)
	LinkLocal                       // 169.254/16 (cloud metadata lives here), fe80::/10
	Multicast                       // 224.0.0.0/4, ff00::/8
	Broadcast                       // 255.255.255.255
	Reserved                        // 240.0.0.0/4 (future use; not routable)
)

var addressClassNames = [...]string{
	Public:      "public",
	Loopback:    "loopback",
	Unspecified: "unspecified",
	Private:     "private",
	SharedCGNAT: "shared (CGNAT)",
	LinkLocal:   "link-local",
	Multicast:   "multicast",
	Broadcast:   "broadcast",
	Reserved:    "reserved",
}

func (c AddressClass) String() string {
	if c < 0 || int(c) >= len(addressClassNames) {
		return fmt.Sprintf("AddressClass(%d)", int(c))
	}
	return addressClassNames[c]
}

var (
	classRanges = []struct {
		prefix netip.Prefix
		class  AddressClass
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},
		{netip.MustParsePrefix("10.0.0.0/8"), Private},
		{netip.MustParsePrefix("100.64.0.0/10"), SharedCGNAT},
		{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
		{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal},
		{netip.MustParsePrefix("172.16.0.0/12"), Private},
		{netip.MustParsePrefix("192.168.0.0/16"), Private},
		{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
		{netip.MustParsePrefix("255.255.255.255/32"), Broadcast},
		{netip.MustParsePrefix("240.0.0.0/4"), Reserved},
		{netip.MustParsePrefix("::/128"), Unspecified},
		{netip.MustParsePrefix("::1/128"), Loopback},
		{netip.MustParsePrefix("fc00::/7"), Private},
		{netip.MustParsePrefix("fe80::/10"), LinkLocal},
		{netip.MustParsePrefix("ff00::/8"), Multicast},
	}
	// Addresses in these IPv6 ranges reach an IPv4 address: they are
	// classed by the IPv4 address they carry.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// ClassifyAddress returns the class of ip. IPv4-mapped IPv6 addresses
// (::ffff:10.0.0.1) and NAT64 addresses (64:ff9b::10.0.0.1) are classed by
// the IPv4 address inside them; an IPv6 zone is ignored. An invalid
// address is Unspecified, so it is never mistaken for a public one.
func ClassifyAddress(ip netip.Addr) AddressClass {
	if !ip.IsValid() {
		return Unspecified
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, r := range classRanges {
		if r.prefix.Contains(ip) {
			return r.class
		}
	}
	return Public
}

// DecideAddress decides an address a host name resolved to, at dial time,
// for a connection whose name Decide already allowed. It never asks:
//
//   - an address a deny rule names (IP literal or CIDR) is denied;
//   - an address that is not Public is denied unless an allow rule names it
//     (an allow rule for the host name is not enough: a name must not be a
//     way to reach the local network; list the address or its CIDR);
//   - any other address is allowed.
//
// The wasi:http and wasi:sockets hosts call it for every address before
// dialling; for an IP literal Decide already applied the same rules.
// A nil policy is an empty one.
func (p *Policy) DecideAddress(scheme string, ip netip.Addr, port uint16) Decision {
	if !ip.IsValid() {
		return Decision{Verdict: Deny, Reason: "not a valid IP address"}
	}
	host := accessHost{addr: ip.WithZone("").Unmap()}
	if d := p.decideNetwork(scheme, host, port, true); d.Verdict != Ask {
		return d
	}
	return Decision{Verdict: Allow, Reason: fmt.Sprintf("%s is a public address", host.addr)}
}
