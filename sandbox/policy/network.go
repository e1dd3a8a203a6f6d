package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Schemes a network rule may pin. http and https are what wasi:http
// requests use; tcp and udp are wasi:sockets connections a component makes
// (to the host and port named); tcp-listen and udp-listen are sockets it
// binds to receive on (the local address and port named).
var ruleSchemes = map[string]uint16{"http": 80, "https": 443, "tcp": 0, "udp": 0, "tcp-listen": 0, "udp-listen": 0}

// schemeList names the rule schemes, for messages.
const schemeList = "http, https, tcp, udp, tcp-listen or udp-listen"

// defaultPort is the port a rule without a port allows for scheme, or 0
// when the scheme has none (raw sockets).
func defaultPort(scheme string) uint16 { return ruleSchemes[scheme] }

// hostPattern is a compiled network rule: a `host:` entry or a `cidr:` entry.
type hostPattern struct {
	scheme string // "" = http or https (allow), any scheme (deny)
	port   uint16 // 0 = the scheme's default port (allow), any port (deny)

	// Exactly one of these names the host.
	name     string       // lower case, no trailing dot
	suffix   string       // for "*.example.com": ".example.com"
	anyHost  bool         // "*": deny lists only
	addr     netip.Addr   // an IP literal (unmapped)
	prefix   netip.Prefix // a CIDR (IPv4-mapped prefixes become IPv4)
	isPrefix bool
}

// compileHost parses a `host:` entry: an optional scheme ("https://"), a
// host name, "*.name", an IP literal (IPv6 in brackets when a port follows)
// or "*" (deny lists only), and an optional ":port". A trailing "/" is
// accepted (`https://rss.nytimes.com/`); any other path is not, because a
// rule cannot grant part of a host.
func compileHost(entry string, deny bool) (hostPattern, error) {
	var hp hostPattern
	rest := entry
	if scheme, after, ok := strings.Cut(rest, "://"); ok {
		scheme = strings.ToLower(scheme)
		if _, known := ruleSchemes[scheme]; !known {
			return hostPattern{}, fmt.Errorf("%q: scheme %q is not %s", entry, scheme, schemeList)
		}
		hp.scheme = scheme
		rest = strings.TrimSuffix(after, "/")
	}
	if strings.ContainsAny(rest, "/?#@ \t\r\n\x00") {
		return hostPattern{}, fmt.Errorf("%q names more than a host (a path, user or space): write only the host, e.g. %q", entry, "https://api.example.com")
	}
	host := rest
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return hostPattern{}, fmt.Errorf("%q: missing ] after an IPv6 address", entry)
		}
		host = rest[1:end]
		if tail := rest[end+1:]; tail != "" {
			if !strings.HasPrefix(tail, ":") {
				return hostPattern{}, fmt.Errorf("%q: unexpected %q after ]", entry, tail)
			}
			port, err := parsePort(tail[1:])
			if err != nil {
				return hostPattern{}, fmt.Errorf("%q: %w", entry, err)
			}
			hp.port = port
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return hostPattern{}, fmt.Errorf("%q: %q in brackets is not an IPv6 address", entry, host)
		}
	case strings.Count(rest, ":") == 1:
		h, portText, _ := strings.Cut(rest, ":")
		port, err := parsePort(portText)
		if err != nil {
			return hostPattern{}, fmt.Errorf("%q: %w", entry, err)
		}
		host, hp.port = h, port
	}
	if hp.scheme != "" && defaultPort(hp.scheme) == 0 && hp.port == 0 && !deny {
		return hostPattern{}, fmt.Errorf("%q: a %s rule needs a port (%s://host:port): sockets have no default port", entry, hp.scheme, hp.scheme)
	}

	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return hostPattern{}, fmt.Errorf("%q: an IPv6 zone (%%%s) cannot be named in a policy", entry, addr.Zone())
		}
		hp.addr = addr.Unmap()
		return hp, nil
	}
	switch {
	case host == "*":
		if !deny {
			return hostPattern{}, fmt.Errorf("%q: a bare * is only accepted in deny lists; name the hosts to allow", entry)
		}
		hp.anyHost = true
		return hp, nil
	case strings.HasPrefix(host, "*."):
		name, err := normalizeHostName(host[2:])
		if err != nil {
			return hostPattern{}, fmt.Errorf("%q: %w", entry, err)
		}
		hp.suffix = "." + name
		return hp, nil
	case strings.Contains(host, "*"):
		return hostPattern{}, fmt.Errorf("%q: a wildcard may only be a leading \"*.\" (as in *.example.com)", entry)
	}
	name, err := normalizeHostName(host)
	if err != nil {
		return hostPattern{}, fmt.Errorf("%q: %w", entry, err)
	}
	hp.name = name
	return hp, nil
}

// compileCIDR parses a `cidr:` entry, IPv4 or IPv6. An IPv4-mapped IPv6
// prefix (::ffff:10.0.0.0/104) is turned into its IPv4 form so that it
// matches both ways of writing an address.
func compileCIDR(entry string) (hostPattern, error) {
	prefix, err := netip.ParsePrefix(entry)
	if err != nil {
		return hostPattern{}, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", entry)
	}
	prefix = prefix.Masked()
	if a := prefix.Addr(); a.Is4In6() && prefix.Bits() >= 96 {
		prefix = netip.PrefixFrom(a.Unmap(), prefix.Bits()-96)
	}
	return hostPattern{prefix: prefix, isPrefix: true}, nil
}

func parsePort(text string) (uint16, error) {
	n, err := strconv.ParseUint(text, 10, 16)
	if err != nil || n == 0 || len(text) > 5 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", text)
	}
	return uint16(n), nil
}

// normalizeHostName lower-cases a DNS name, drops one trailing dot and
// checks its characters. Names are compared in their ASCII (xn--) form.
func normalizeHostName(name string) (string, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" || len(name) > 253 {
		return "", fmt.Errorf("host name %q is empty or too long", name)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("host name %q has an empty or over-long label", name)
		}
		for _, c := range label {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("host name %q has the character %q: write international names in their xn-- form", name, c)
			}
		}
	}
	return name, nil
}

// accessHost is the host of a network access, parsed once.
type accessHost struct {
	name string     // set for names
	addr netip.Addr // valid for IP literals (unmapped, no zone)
}

// parseAccessHost accepts a DNS name or an IP literal (IPv6 with or
// without brackets; a zone is dropped: it picks an interface, not a host).
func parseAccessHost(host string) (accessHost, error) {
	h := host
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		return accessHost{addr: addr.WithZone("").Unmap()}, nil
	}
	name, err := normalizeHostName(h)
	if err != nil {
		return accessHost{}, err
	}
	// "10.0.0.1." is the address 10.0.0.1 to a resolver: read it as the
	// address, so the rules for addresses (and the refused ranges) apply.
	if addr, err := netip.ParseAddr(name); err == nil {
		return accessHost{addr: addr.WithZone("").Unmap()}, nil
	}
	return accessHost{name: name}, nil
}

// matches reports whether the rule covers scheme://host:port. Allow rules
// are read narrowly and deny rules broadly (see RATIONALE.md):
//   - no scheme: an allow rule covers http and https, a deny rule every scheme;
//   - no port: an allow rule covers the scheme's default port, a deny rule
//     every port;
//   - port 0 in the access means "not known yet" (a name lookup before a
//     connect): it meets allow rules on any port, and only those deny rules
//     that cover every port.
func (hp hostPattern) matches(scheme string, host accessHost, port uint16, deny bool) bool {
	if !hp.matchesScheme(scheme, deny) || !hp.matchesPort(scheme, port, deny) {
		return false
	}
	switch {
	case hp.isPrefix:
		return host.addr.IsValid() && hp.prefix.Contains(host.addr)
	case hp.addr.IsValid():
		return host.addr == hp.addr
	case hp.anyHost:
		return true
	case hp.suffix != "":
		// Subdomains at any depth, never the apex: *.example.com does not
		// cover example.com (Wassette's own default list names both).
		return host.name != "" && strings.HasSuffix(host.name, hp.suffix)
	default:
		return host.name != "" && host.name == hp.name
	}
}

func (hp hostPattern) matchesScheme(scheme string, deny bool) bool {
	switch {
	case hp.scheme != "":
		return hp.scheme == scheme
	case deny:
		return true
	default:
		return scheme == "http" || scheme == "https"
	}
}

func (hp hostPattern) matchesPort(scheme string, port uint16, deny bool) bool {
	switch {
	case port == 0:
		return !deny || hp.port == 0
	case hp.port != 0:
		return hp.port == port
	case deny:
		return true
	default:
		return port == defaultPort(scheme)
	}
}

// names reports whether the rule names an IP address itself (an IP literal
// or a CIDR) rather than a host name.
func (hp hostPattern) namesAddress() bool { return hp.isPrefix || hp.addr.IsValid() }

// NetworkHost returns the narrowest network rule for an access a person
// chose to allow always: the scheme, the host and, when it is not the
// scheme's default, the port — "https://api.example.com",
// "http://127.0.0.1:8080", "tcp://db.example.com:5432".
func NetworkHost(access Network) (string, error) {
	scheme := strings.ToLower(access.Scheme)
	if _, ok := ruleSchemes[scheme]; !ok {
		return "", fmt.Errorf("network rule for %s: scheme %q is not %s", access.Host, access.Scheme, schemeList)
	}
	h, err := parseAccessHost(access.Host)
	if err != nil {
		return "", fmt.Errorf("network rule for %q: %w", access.Host, err)
	}
	host := h.name
	if h.addr.IsValid() {
		host = h.addr.String()
		if h.addr.Is6() {
			host = "[" + host + "]"
		}
	}
	if access.Port == 0 && defaultPort(scheme) == 0 {
		return "", fmt.Errorf("network rule for %s://%s: a %s rule needs a port", scheme, host, scheme)
	}
	if access.Port != 0 && access.Port != defaultPort(scheme) {
		host += ":" + strconv.Itoa(int(access.Port))
	}
	return scheme + "://" + host, nil
}
