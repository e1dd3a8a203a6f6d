package wasi

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Where an outgoing request goes. The guest hands the host a scheme and an
// authority as strings; they are parsed here once, strictly, and what the
// policy decides, what is resolved, what is dialled and what goes in the
// Host header all come from the one parsed target. Anything a lenient
// parser elsewhere might read differently (user info, percent escapes,
// numeric host forms such as 2130706433 or 0x7f.1, zones, empty ports) is
// refused rather than normalised.

// target is the destination of an outgoing HTTP request.
type target struct {
	scheme string     // "http" or "https"
	host   string     // a lower-case DNS name without a trailing dot, or an IP literal (no brackets)
	addr   netip.Addr // valid when host is an IP literal
	port   uint16
}

// defaultHTTPPort returns the port a scheme means when the authority has none.
func defaultHTTPPort(scheme string) uint16 {
	if scheme == "https" {
		return 443
	}
	return 80
}

// authority returns host[:port] as it goes in the Host header and the URL:
// IPv6 literals in brackets, the port left out when it is the scheme's default.
func (t target) authority() string {
	host := t.host
	if t.addr.Is6() {
		host = "[" + host + "]"
	}
	if t.port == defaultHTTPPort(t.scheme) {
		return host
	}
	return host + ":" + strconv.Itoa(int(t.port))
}

// parseAuthority parses a request's authority for scheme ("http" or
// "https"). Its errors say what is wrong, for the guest's error message.
func parseAuthority(scheme, authority string) (target, error) {
	t := target{scheme: scheme}
	if authority == "" {
		return t, errors.New("the request has no authority (host)")
	}
	if strings.ContainsRune(authority, '@') {
		return t, fmt.Errorf("authority %q has user info: put credentials in a header", authority)
	}
	host, portText := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return t, fmt.Errorf("authority %q has an unclosed IPv6 bracket", authority)
		}
		host, portText = authority[1:end], authority[end+1:]
		if portText != "" {
			if portText[0] != ':' {
				return t, fmt.Errorf("authority %q has text after its IPv6 address", authority)
			}
			portText = portText[1:]
			if portText == "" {
				return t, fmt.Errorf("authority %q has an empty port", authority)
			}
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return t, fmt.Errorf("authority %q does not hold a plain IPv6 address in brackets", authority)
		}
		t.addr, t.host = addr, addr.String()
	} else {
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			host, portText = authority[:i], authority[i+1:]
			if portText == "" {
				return t, fmt.Errorf("authority %q has an empty port", authority)
			}
		}
		if strings.ContainsRune(host, ':') {
			return t, fmt.Errorf("authority %q: an IPv6 address must be written in brackets", authority)
		}
		if addr, err := netip.ParseAddr(host); err == nil && addr.Is4() {
			t.addr, t.host = addr, addr.String()
		} else {
			name, err := checkHostName(host)
			if err != nil {
				return t, fmt.Errorf("authority %q: %w", authority, err)
			}
			t.host = name
		}
	}
	t.port = defaultHTTPPort(scheme)
	if portText != "" {
		p, err := parsePortText(portText)
		if err != nil {
			return t, fmt.Errorf("authority %q: %w", authority, err)
		}
		t.port = p
	}
	return t, nil
}

// parsePortText accepts 1 to 5 decimal digits naming a port from 1 to 65535.
func parsePortText(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// checkHostName returns name lower-cased without one trailing dot, or an
// error when it is not a plain DNS name: only letters, digits, '-' and
// '_' in non-empty labels of at most 63 bytes, 253 in all, and a last label
// that does not look like a number (resolvers read "127.1", "2130706433"
// and "0x7f.1" as IPv4 addresses; such a name could not be decided as the
// address it is).
func checkHostName(name string) (string, error) {
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	if n == "" || len(n) > 253 {
		return "", fmt.Errorf("host name %q is empty or longer than 253 bytes", name)
	}
	labels := strings.Split(n, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("host name %q has an empty or over-long label", name)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("host name %q has the character %q: write an international name in its xn-- form", name, c)
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("host name %q ends in a number: write an IPv4 address as four decimal parts", name)
	}
	return n, nil
}

// hostHeaderMatches reports whether a guest-set Host header value names
// the same host and port as t. A Host header that differs from the
// authority would let a request decided as one host be routed, by a
// virtual-hosting server or a proxy on the way, to another.
func hostHeaderMatches(t target, value string) bool {
	h, err := parseAuthority(t.scheme, value)
	return err == nil && h.host == t.host && h.port == t.port
}
