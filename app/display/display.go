// Package display tells whether this session can show windows, before a
// GUI toolkit is started that panics without one (GLFW does, when $DISPLAY
// names an X server that is gone: a stale ssh -X session, a stopped Xvfb).
package display

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// dialTimeout bounds each connection tried; a display on this machine
// answers at once.
const dialTimeout = 2 * time.Second

// Check returns nil when a window can be shown: on macOS and Windows
// always; elsewhere when the Wayland compositor ($WAYLAND_DISPLAY) or the X
// server ($DISPLAY) accepts a connection. The error says what was tried.
func Check(ctx context.Context) error {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return nil
	}
	return check(ctx, os.Getenv, "/tmp/.X11-unix")
}

// check is Check with the environment and the X socket folder given.
func check(ctx context.Context, getenv func(string) string, xSocketDir string) error {
	wayland, x := getenv("WAYLAND_DISPLAY"), getenv("DISPLAY")
	if wayland == "" && x == "" {
		return errors.New("$DISPLAY and $WAYLAND_DISPLAY are empty")
	}
	var errs []error
	if wayland != "" {
		path := wayland
		if !filepath.IsAbs(path) {
			path = filepath.Join(getenv("XDG_RUNTIME_DIR"), wayland)
		}
		if err := reach(ctx, "unix", path); err == nil {
			return nil
		} else {
			errs = append(errs, fmt.Errorf("WAYLAND_DISPLAY=%s: %w", wayland, err))
		}
	}
	if x != "" {
		if err := reachX(ctx, x, xSocketDir); err == nil {
			return nil
		} else {
			errs = append(errs, fmt.Errorf("DISPLAY=%s: %w", x, err))
		}
	}
	return errors.Join(errs...)
}

// reachX connects to the X server display names ([host]:number[.screen]):
// its local socket (abstract on Linux, then the file) when host is empty
// or "unix", else TCP port 6000+number on host.
func reachX(ctx context.Context, display, socketDir string) error {
	i := strings.LastIndex(display, ":") // the last: [::1]:0 has more
	if i < 0 {
		return fmt.Errorf("not an X display name (want [host]:number)")
	}
	host := display[:i]
	num, _, _ := strings.Cut(display[i+1:], ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return fmt.Errorf("not an X display name (want [host]:number)")
	}
	if host == "" || host == "unix" {
		path := filepath.Join(socketDir, "X"+num)
		if runtime.GOOS == "linux" && reach(ctx, "unix", "@"+path) == nil {
			return nil
		}
		return reach(ctx, "unix", path)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return reach(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)))
}

// reach connects to address and hangs up.
func reach(ctx context.Context, network, address string) error {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return op.Err // the rest repeats the address
		}
		return err
	}
	return conn.Close()
}
