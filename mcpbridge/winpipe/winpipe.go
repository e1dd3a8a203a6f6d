// Package winpipe is the Windows local transport of the owner's sockets
// (the MCP and control sockets, used through internal/localsock): a named
// pipe only the current user can open, a net.Listener accepting its
// clients, and a dialer that checks it reached a server of the same user.
//
// The pipe's security descriptor grants full access to the user's SID and
// nobody else (not Administrators, not SYSTEM, not Everyone); remote
// clients are rejected; the first instance is created with
// FILE_FLAG_FIRST_PIPE_INSTANCE so that a process squatting on the name
// makes Listen fail rather than share the pipe. Each accepted client's
// process token is checked as a second fence behind the DACL.
//
//	ln, err := winpipe.Listen(`\\.\pipe\tapedeck-ann-1a2b3c`)
//	conn, err := winpipe.Dial(ctx, `\\.\pipe\tapedeck-ann-1a2b3c`)
//
// On other systems Listen and Dial return errors.ErrUnsupported.
package winpipe

import (
	"errors"
	"fmt"
	"strings"
)

// pipePrefix is the local pipe namespace; a name on another host
// (\\server\pipe\…) is refused, as the pipe rejects remote clients anyway.
const pipePrefix = `\\.\pipe\`

// maxNameLen is the longest pipe name Windows accepts (256 characters,
// prefix included).
const maxNameLen = 256

// checkName returns an error unless name is a local pipe name Windows
// accepts: \\.\pipe\ followed by 1 to 247 characters with no backslash.
func checkName(name string) error {
	rest, ok := strings.CutPrefix(name, pipePrefix)
	if !ok {
		return fmt.Errorf("pipe name %q does not start with %s: only local pipes are served", name, pipePrefix)
	}
	switch {
	case rest == "":
		return fmt.Errorf("pipe name %q has nothing after %s", name, pipePrefix)
	case len(name) > maxNameLen:
		return fmt.Errorf("pipe name %q is longer than %d characters", name, maxNameLen)
	case strings.ContainsAny(rest, "\\\x00"):
		return fmt.Errorf("pipe name %q may not contain a backslash or NUL after %s", name, pipePrefix)
	}
	return nil
}

// userOnlySDDL is the security descriptor, in SDDL, of a pipe only the
// user with sid may use: a protected DACL (P: no inherited entries) with
// one entry allowing GENERIC_ALL to that SID. A SID looks like
// S-1-5-21-…; anything else is refused, so the string cannot carry other
// entries.
func userOnlySDDL(sid string) (string, error) {
	if !validSID(sid) {
		return "", fmt.Errorf("%q is not a security identifier (S-1-…)", sid)
	}
	return "D:P(A;;GA;;;" + sid + ")", nil
}

// validSID reports whether s is a SID in its string form: "S-1-", then
// dash-separated decimal numbers (the identifier authority and at least
// one sub-authority).
func validSID(s string) bool {
	rest, ok := strings.CutPrefix(s, "S-1-")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "-")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 10 {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// ErrUnsupported is returned by Listen and Dial off Windows.
var ErrUnsupported = errors.ErrUnsupported
