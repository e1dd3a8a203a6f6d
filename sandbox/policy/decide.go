package policy

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Access is one thing a component tries to reach: a Storage, Network, Env
// or Config value. The set is closed.
type Access interface {
	fmt.Stringer
	isAccess()
}

// Storage is a file or folder access. Path is absolute, cleaned and real:
// the caller resolves symlinks first, because rules are matched on names
// and a link's name says nothing about where it leads.
type Storage struct {
	Path  string
	Write bool // false: read (including listing a folder and stat)
}

// Network is a connection. Scheme is "http" or "https" for wasi:http
// requests, "tcp" or "udp" for wasi:sockets connections, "tcp-listen" or
// "udp-listen" for a wasi:sockets bind (Host and Port are then the local
// address and port). Host is a DNS name or an IP literal. Port 0 means not
// known yet (a name lookup before a connect).
type Network struct {
	Scheme string
	Host   string
	Port   uint16
}

// Env is an environment variable the component's instance would see.
type Env struct{ Key string }

// Config is a wasi:config/store key. Keys are decided by the environment
// rules, as Wassette exposes allowed variables through wasi:config too.
type Config struct{ Key string }

func (Storage) isAccess() {}
func (Network) isAccess() {}
func (Env) isAccess()     {}
func (Config) isAccess()  {}

func (s Storage) String() string {
	if s.Write {
		return "write " + s.Path
	}
	return "read " + s.Path
}

func (n Network) String() string {
	host := n.Host
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if n.Port != 0 {
		host += ":" + strconv.Itoa(int(n.Port))
	}
	return n.Scheme + "://" + host
}

func (e Env) String() string    { return "environment variable " + e.Key }
func (c Config) String() string { return "config key " + c.Key }

// Verdict is the outcome of a decision. The zero value is Deny, so a
// Decision nobody filled in never lets anything through.
type Verdict int

const (
	Deny  Verdict = iota // refuse
	Ask                  // the policy is silent: ask a person (or deny headless)
	Allow                // go ahead
)

func (v Verdict) String() string {
	switch v {
	case Deny:
		return "deny"
	case Ask:
		return "ask"
	case Allow:
		return "allow"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// Decision is a Verdict and what led to it, for messages and logs.
type Decision struct {
	Verdict Verdict
	// Rule is the rule that decided, as a path into the policy file
	// ("permissions.network.deny[0]"); empty when no rule did.
	Rule string
	// Pattern is that rule's value as written ("internal.example.com").
	Pattern string
	// Reason explains a decision no rule made (a protected folder, a
	// private address, a malformed request).
	Reason string
}

// String reads as a sentence fragment: "denied by
// permissions.network.deny[0] (internal.example.com)".
func (d Decision) String() string {
	verb := map[Verdict]string{Deny: "denied", Allow: "allowed", Ask: "not decided"}[d.Verdict]
	switch {
	case d.Rule != "":
		return fmt.Sprintf("%s by %s (%s)", verb, d.Rule, d.Pattern)
	case d.Reason != "":
		return verb + ": " + d.Reason
	case d.Verdict == Ask:
		return "no rule in the policy names it"
	}
	return verb
}

// Protected is the set of Tapedeck's own folders and files (data, cache,
// config and runtime folders, the secrets fallback file, the HTTP token).
// Paths equal to or below one of them are denied to every component
// whatever its policy says: the compile cache holds native code, so a write
// there would be an escape. The zero value protects nothing.
type Protected struct {
	roots []string // slash form, cleaned, absolute
}

// NewProtected builds the set from absolute paths. Pass real paths
// (symlinks resolved, e.g. with filepath.EvalSymlinks), as Storage paths
// are real paths too; a path that does not exist yet is fine.
func NewProtected(paths ...string) (Protected, error) {
	var pr Protected
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return Protected{}, fmt.Errorf("protected path %q is not absolute", p)
		}
		segs, err := splitAccessPath(filepath.Clean(p))
		if err != nil {
			return Protected{}, fmt.Errorf("protected path %q: %w", p, err)
		}
		pr.roots = append(pr.roots, "/"+strings.Join(segs, "/"))
	}
	return pr, nil
}

// Covers reports whether path is one of the protected paths or lies below
// one, and which. A path that is not absolute and clean is covered (the
// check fails closed). On Windows and macOS, whose file systems usually
// ignore case, the comparison ignores case too.
func (pr Protected) Covers(path string) (root string, covered bool) {
	segs, err := splitAccessPath(path)
	if err != nil {
		return "", true
	}
	p := "/" + strings.Join(segs, "/")
	for _, root := range pr.roots {
		if root == "/" || samePathPrefix(p, root) {
			return root, true
		}
	}
	return "", false
}

func samePathPrefix(p, root string) bool {
	if len(p) < len(root) || (len(p) > len(root) && p[len(root)] != '/') {
		return false
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return strings.EqualFold(p[:len(root)], root)
	}
	return p[:len(root)] == root
}

// Decide answers one access under the policy. It is a pure function of the
// policy, the access and own (Tapedeck's protected paths), and is safe to
// call concurrently with edits. A nil policy is an empty one.
//
// Order: a storage path inside own is denied; then a deny rule that covers
// the access denies; then an allow rule allows; a non-public IP literal no
// allow rule names is denied (see DecideAddress); anything else is Ask.
// The environment is never asked in practice (an instance's environment is
// fixed when it starts): callers treat Ask for an Env as Deny.
func (p *Policy) Decide(a Access, own Protected) Decision {
	switch a := a.(type) {
	case Storage:
		return p.decideStorage(a, own)
	case Network:
		h, err := parseAccessHost(a.Host)
		if err != nil {
			return Decision{Verdict: Deny, Reason: fmt.Sprintf("host %q: %v", a.Host, err)}
		}
		return p.decideNetwork(strings.ToLower(a.Scheme), h, a.Port, false)
	case Env:
		return p.decideKey(a.Key)
	case Config:
		return p.decideKey(a.Key)
	}
	return Decision{Verdict: Deny, Reason: fmt.Sprintf("unknown kind of access %T", a)}
}

func (p *Policy) decideStorage(a Storage, own Protected) Decision {
	segs, err := splitAccessPath(a.Path)
	if err != nil {
		return Decision{Verdict: Deny, Reason: fmt.Sprintf("%q is %v", a.Path, err)}
	}
	if root, ok := own.Covers(a.Path); ok {
		return Decision{Verdict: Deny, Reason: fmt.Sprintf("%s is inside %s, which belongs to Tapedeck itself; no policy can grant it", a.Path, root)}
	}
	if p == nil {
		return Decision{Verdict: Ask}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i, r := range p.rules.storageDeny {
		if r.grants(a.Write) && r.pattern.covers(segs) {
			return Decision{Verdict: Deny, Rule: fmt.Sprintf("permissions.storage.deny[%d]", i), Pattern: r.URI}
		}
	}
	for i, r := range p.rules.storageAllow {
		if r.grants(a.Write) && r.pattern.covers(segs) {
			return Decision{Verdict: Allow, Rule: fmt.Sprintf("permissions.storage.allow[%d]", i), Pattern: r.URI}
		}
	}
	return Decision{Verdict: Ask}
}

// decideNetwork applies the network rules; with addressesOnly set, only
// rules that name addresses (IP literals, CIDRs) count, as at dial time.
func (p *Policy) decideNetwork(scheme string, host accessHost, port uint16, addressesOnly bool) Decision {
	if p != nil {
		p.mu.RLock()
		defer p.mu.RUnlock()
		for i, r := range p.rules.networkDeny {
			if (!addressesOnly || r.pattern.namesAddress()) && r.pattern.matches(scheme, host, port, true) {
				return Decision{Verdict: Deny, Rule: fmt.Sprintf("permissions.network.deny[%d]", i), Pattern: r.value()}
			}
		}
		for i, r := range p.rules.networkAllow {
			if (!addressesOnly || r.pattern.namesAddress()) && r.pattern.matches(scheme, host, port, false) {
				return Decision{Verdict: Allow, Rule: fmt.Sprintf("permissions.network.allow[%d]", i), Pattern: r.value()}
			}
		}
	}
	if host.addr.IsValid() {
		if class := ClassifyAddress(host.addr); class != Public {
			return Decision{Verdict: Deny, Reason: fmt.Sprintf(
				"%s is a %s address, reachable only when the policy lists it: add %s to permissions.network.allow",
				host.addr, class, addressRule(scheme, host.addr, port))}
		}
	}
	return Decision{Verdict: Ask}
}

// addressRule is the narrowest rule that would let scheme://addr:port
// through, for messages.
func addressRule(scheme string, addr netip.Addr, port uint16) string {
	if rule, err := NetworkHost(Network{Scheme: scheme, Host: addr.String(), Port: port}); err == nil {
		return fmt.Sprintf("{host: %q}", rule)
	}
	return fmt.Sprintf("{cidr: %q}", netip.PrefixFrom(addr, addr.BitLen()))
}

func (p *Policy) decideKey(key string) Decision {
	if p == nil {
		return Decision{Verdict: Ask}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i, r := range p.rules.envDeny {
		if r.Key == key {
			return Decision{Verdict: Deny, Rule: fmt.Sprintf("permissions.environment.deny[%d]", i), Pattern: r.Key}
		}
	}
	for i, r := range p.rules.envAllow {
		if r.Key == key {
			return Decision{Verdict: Allow, Rule: fmt.Sprintf("permissions.environment.allow[%d]", i), Pattern: r.Key}
		}
	}
	return Decision{Verdict: Ask}
}
