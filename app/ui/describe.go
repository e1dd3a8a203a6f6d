package ui

import (
	"fmt"
	"strings"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// questionText is an AccessRequest put in words for a person.
type questionText struct {
	Headline string // "weather wants to connect to api.example.com:443 (https)"
	What     string // exactly what: host:port and scheme, path and mode, variable
	Why      string // why it matters, in plain words
	Client   string // the name the client claims
	Process  string // the real process behind the connection
}

func describe(req sandbox.AccessRequest) questionText {
	comp := req.Component
	if comp == "" {
		comp = "A component"
	}
	t := questionText{Client: claimedName(req.Client), Process: processName(req.Client)}
	switch {
	case req.Proposal != "":
		t.Headline = fmt.Sprintf("%s arrived with its own policy", comp)
		t.What = "Apply this policy to " + comp + ":"
		t.Why = "A policy says which files, hosts and variables a component may use. Apply it only if you trust where the component came from."
	case req.Access == nil:
		t.Headline = fmt.Sprintf("%s asks for something Tapedeck cannot describe", comp)
		t.What = "(no details)"
		t.Why = "Deny unless you know what this is."
	default:
		verb, what, why := accessWords(req.Access)
		t.What = what
		t.Why = why
		if req.Grant {
			t.Headline = fmt.Sprintf("An agent asks to let %s %s", comp, verb)
			t.Why = "An agent (not the component's code) asked to widen what the component may do. " + why
		} else {
			t.Headline = fmt.Sprintf("%s wants to %s", comp, verb)
		}
	}
	if req.Why != "" {
		t.Why = req.Why
	}
	return t
}

// accessWords gives a verb phrase for the headline, the exact access, and
// why it matters.
func accessWords(a policy.Access) (verb, what, why string) {
	switch a := a.(type) {
	case policy.Storage:
		if a.Write {
			return "change files on your computer", "Write to " + a.Path,
				"It could change or delete what is there."
		}
		return "read files on your computer", "Read " + a.Path,
			"It could send what it reads to anyone it can connect to."
	case policy.Network:
		target := a.Host
		if a.Port != 0 {
			target = fmt.Sprintf("%s:%d", a.Host, a.Port)
		}
		scheme := a.Scheme
		if scheme == "" {
			scheme = "network"
		}
		return "connect to " + a.Host, fmt.Sprintf("Connect to %s (%s)", target, scheme),
			"It could send data there or fetch instructions from there."
	case policy.Env:
		return "read the variable " + a.Key, "Read the environment variable " + a.Key,
			"Variables often hold tokens and passwords."
	case policy.Config:
		return "read the setting " + a.Key, "Read the config key " + a.Key,
			"Config keys often hold tokens and passwords."
	}
	return "use " + a.String(), a.String(), "Deny unless you know what this is."
}

func claimedName(c sandbox.Client) string {
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = "an unnamed client"
	}
	if c.Version != "" {
		name += " " + c.Version
	}
	return name
}

// processName reads "claude (pid 4121)" — the process cannot lie about
// itself the way a claimed name can.
func processName(c sandbox.Client) string {
	switch {
	case c.PID != 0 && c.Process != "":
		return fmt.Sprintf("%s (pid %d)", c.Process, c.PID)
	case c.PID != 0:
		return fmt.Sprintf("pid %d", c.PID)
	case c.Transport == "app" || c.Transport == "cli":
		return "you, through Tapedeck's " + c.Transport
	}
	return "not known (" + transportWords(c.Transport) + ")"
}

func transportWords(t string) string {
	if t == "" {
		return "the connection does not tell"
	}
	return "a " + t + " connection does not tell"
}
