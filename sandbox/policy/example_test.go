package policy_test

import (
	"fmt"
	"net/netip"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

func ExamplePolicy_Decide() {
	p, err := policy.Parse([]byte(`version: "1.0"
permissions:
  network:
    allow:
      - host: "*.example.com"
    deny:
      - host: "internal.example.com"
  storage:
    allow:
      - uri: "fs:///home/me/project/**"
        access: [read, write]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	own, _ := policy.NewProtected("/home/me/project/.tapedeck")

	for _, a := range []policy.Access{
		policy.Network{Scheme: "https", Host: "api.example.com", Port: 443},
		policy.Network{Scheme: "https", Host: "internal.example.com", Port: 443},
		policy.Network{Scheme: "https", Host: "example.com", Port: 443},
		policy.Storage{Path: "/home/me/project/main.go", Write: true},
		policy.Storage{Path: "/home/me/project/.tapedeck/cache"},
	} {
		fmt.Printf("%s: %s\n", a, p.Decide(a, own))
	}
	// At dial time, a name the policy allowed must still not lead to the
	// local network.
	fmt.Println(p.DecideAddress("https", netip.MustParseAddr("10.0.0.7"), 443))
	// Output:
	// https://api.example.com:443: allowed by permissions.network.allow[0] (*.example.com)
	// https://internal.example.com:443: denied by permissions.network.deny[0] (internal.example.com)
	// https://example.com:443: no rule in the policy names it
	// write /home/me/project/main.go: allowed by permissions.storage.allow[0] (fs:///home/me/project/**)
	// read /home/me/project/.tapedeck/cache: denied: /home/me/project/.tapedeck/cache is inside /home/me/project/.tapedeck, which belongs to Tapedeck itself; no policy can grant it
	// denied: 10.0.0.7 is a private address, reachable only when the policy lists it: add {host: "https://10.0.0.7"} to permissions.network.allow
}

func ExamplePolicy_AddStorage() {
	p, _ := policy.Parse([]byte(`version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///home/me/notes"  # my notes
        access: [read]
`))
	// A person answered "allow always" to a write in the same folder.
	_ = p.AddStorage(policy.AllowList, "fs:///home/me/notes", policy.Write)
	out, _ := p.Marshal()
	fmt.Print(string(out))
	// Output:
	// version: "1.0"
	// permissions:
	//   storage:
	//     allow:
	//       - uri: "fs:///home/me/notes" # my notes
	//         access: [read, write]
}
