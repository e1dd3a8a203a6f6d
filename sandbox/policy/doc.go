// Package policy reads, decides on and edits a component's policy.yaml, in
// the format Wassette uses, so that Wassette's policy files work unchanged.
//
// A policy lists what a component may reach (allow) and may never reach
// (deny): files and folders as `fs://` URIs, network hosts and CIDRs, and
// environment variable keys. [Policy.Decide] answers one access: a deny
// rule wins over an allow rule, and what neither names is [Ask] — the
// sandbox then asks a person (or denies, headless). Tapedeck's own folders
// ([Protected]) are denied whatever the policy says, and private, loopback
// and other local addresses are reachable only when the policy names them
// ([Policy.DecideAddress]).
//
// Edits (grants, revokes, a person's "always" answers) change the file's
// YAML tree rather than re-encoding a struct, so comments and key order
// survive, and [Policy.Save] writes atomically.
//
// Usage:
//
//	p, err := policy.Load(filepath.Join(dir, id+".policy.yaml"))
//	if err != nil {
//		return err // names the line and field, e.g. policy.yaml:7:17: permissions…
//	}
//	own, err := policy.NewProtected(dataDir, cacheDir, configDir, runtimeDir)
//	…
//	access := policy.Network{Scheme: "https", Host: "api.example.com", Port: 443}
//	switch d := p.Decide(access, own); d.Verdict {
//	case policy.Allow: // dial, checking each resolved address with p.DecideAddress
//	case policy.Ask: // ask a person; on "allow always" write the narrowest rule:
//		rule, err := policy.NetworkHost(access) // "https://api.example.com"
//		…
//		err = p.AddNetwork(policy.AllowList, rule)
//		…
//		err = p.Save(path)
//	case policy.Deny: // refuse; d.String() says which rule, e.g.
//		// "denied by permissions.network.deny[0] (internal.example.com)"
//	}
//
// The reasons behind the matching rules (wildcards and the apex, ports,
// private addresses, unknown fields) are in RATIONALE.md beside this file.
package policy
