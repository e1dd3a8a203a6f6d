//go:build !unix

package paths

// checkPrivateDir has nothing to check where there are no unix sockets: on
// Windows the named pipe's own security descriptor restricts it to the user.
func checkPrivateDir(dir string, uid int) error { return nil }
