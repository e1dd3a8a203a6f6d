package relay

import (
	"fmt"
	"os"
	"os/exec"
)

// StartDetached starts exe with args in the background, in its own session
// (so it outlives the editor that started this relay and is not hit by the
// terminal's signals), in folder dir, with no stdin and stdout and stderr
// appended to logFile (created 0600). It does not wait for the program,
// but reaps it when it exits while this process still runs.
func StartDetached(exe string, args []string, dir, logFile string) error {
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the owner's log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = detachedAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", exe, err)
	}
	go cmd.Wait() //nolint:errcheck // only reaps; the owner reports in its log
	return nil
}
