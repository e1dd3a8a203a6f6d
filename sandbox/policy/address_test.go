package policy

import (
	"net/netip"
	"testing"
)

func TestClassifyAddress(t *testing.T) {
	tests := []struct {
		ip   string
		want AddressClass
	}{
		{"127.0.0.1", Loopback}, {"127.255.255.254", Loopback}, {"::1", Loopback},
		{"0.0.0.0", Unspecified}, {"0.255.255.255", Unspecified}, {"::", Unspecified},
		{"10.0.0.0", Private}, {"10.255.255.255", Private},
		{"172.16.0.1", Private}, {"172.31.255.255", Private}, {"172.15.255.255", Public}, {"172.32.0.0", Public},
		{"192.168.0.1", Private}, {"192.168.255.255", Private}, {"192.169.0.0", Public},
		{"fc00::1", Private}, {"fd12:3456::1", Private}, {"fe00::1", Public},
		{"100.64.0.1", SharedCGNAT}, {"100.127.255.255", SharedCGNAT}, {"100.63.255.255", Public}, {"100.128.0.0", Public},
		{"169.254.169.254", LinkLocal}, {"169.254.0.1", LinkLocal}, {"fe80::1", LinkLocal}, {"febf::1", LinkLocal}, {"fe80::1%eth0", LinkLocal},
		{"224.0.0.1", Multicast}, {"239.255.255.255", Multicast}, {"ff02::1", Multicast},
		{"255.255.255.255", Broadcast},
		{"240.0.0.1", Reserved}, {"255.255.255.254", Reserved},
		{"8.8.8.8", Public}, {"93.184.215.14", Public}, {"2606:4700::1111", Public}, {"223.255.255.255", Public},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			if got := ClassifyAddress(ip); got != tt.want {
				t.Errorf("ClassifyAddress(%s) = %v, want %v", ip, got, tt.want)
			}
			if !ip.Is4() {
				return
			}
			// The same address inside IPv6, mapped and through NAT64, is
			// the same kind of network.
			b := ip.As4()
			mapped := netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: b[0], 13: b[1], 14: b[2], 15: b[3]})
			if got := ClassifyAddress(mapped); got != tt.want {
				t.Errorf("ClassifyAddress(%s) = %v, want %v", mapped, got, tt.want)
			}
			nat64 := netip.AddrFrom16([16]byte{0: 0x00, 1: 0x64, 2: 0xff, 3: 0x9b, 12: b[0], 13: b[1], 14: b[2], 15: b[3]})
			if got := ClassifyAddress(nat64); got != tt.want {
				t.Errorf("ClassifyAddress(%s) = %v, want %v", nat64, got, tt.want)
			}
		})
	}
	if got := ClassifyAddress(netip.Addr{}); got != Unspecified {
		t.Errorf("the zero Addr is %v, want unspecified", got)
	}
}

func TestAddressClassString(t *testing.T) {
	for c := Public; c <= Reserved; c++ {
		if s := c.String(); s == "" || s[0] == 'A' {
			t.Errorf("class %d has no name: %q", int(c), s)
		}
	}
	if got := AddressClass(99).String(); got != "AddressClass(99)" {
		t.Errorf("unknown class prints %q", got)
	}
}
