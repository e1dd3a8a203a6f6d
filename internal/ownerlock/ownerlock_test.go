package ownerlock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/internal/wintest"
)

// helperDirEnv makes the test binary act as a second process that competes
// for the lock in the named folder (see TestMain).
const helperDirEnv = "OWNERLOCK_TEST_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		os.Exit(helper(dir))
	}
	os.Exit(m.Run())
}

// helper waits for "go" on stdin, tries to take the lock, reports the
// outcome on stdout, and holds whatever it got until stdin closes.
func helper(dir string) int {
	in := bufio.NewReader(os.Stdin)
	if line, _ := in.ReadString('\n'); strings.TrimSpace(line) != "go" {
		return 2
	}
	l, err := Acquire(dir)
	var held *HeldError
	switch {
	case err == nil:
		fmt.Println("acquired")
	case errors.As(err, &held):
		fmt.Println("held", held.Owner.PID)
	default:
		fmt.Println("error", err)
		return 1
	}
	io.Copy(io.Discard, in)
	if l != nil {
		if err := l.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// contender is a helper process.
type contender struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startContender(t *testing.T, dir string) *contender {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	// atexit_sleep_ms: under -race a child otherwise idles a second at exit.
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, "GORACE=atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &contender{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

func (c *contender) goAndReport(t *testing.T) string {
	t.Helper()
	c.start(t)
	return c.report(t)
}

func (c *contender) start(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
}

func (c *contender) report(t *testing.T) string {
	t.Helper()
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("contender pid %d said nothing: %v", c.cmd.Process.Pid, err)
	}
	return strings.TrimSpace(line)
}

// release lets the contender close its lock and waits for it to exit.
func (c *contender) release(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("contender: %v", err)
	}
}

func TestAcquireInProcess(t *testing.T) {
	dir := wintest.TempDir(t)
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	owner, ok, err := ReadOwner(dir)
	if err != nil || !ok || owner.PID != os.Getpid() || owner.Started.IsZero() {
		t.Fatalf("ReadOwner = %+v, %v, %v; want this process", owner, ok, err)
	}
	_, err = Acquire(dir)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second Acquire = %v, want a HeldError", err)
	}
	if held.Owner != owner {
		t.Errorf("HeldError.Owner = %+v, want %+v", held.Owner, owner)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close = %v, want os.ErrClosed", err)
	}
	if _, ok, err := ReadOwner(dir); ok || err != nil {
		t.Errorf("after Close ReadOwner = %v, %v; want no owner", ok, err)
	}
	l, err = Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Close: %v", err)
	}
	l.Close()
}

func TestReadOwnerNoFile(t *testing.T) {
	if _, ok, err := ReadOwner(wintest.TempDir(t)); ok || err != nil {
		t.Fatalf("ReadOwner of a fresh folder = %v, %v; want no owner, no error", ok, err)
	}
}

func TestAcquireMissingDir(t *testing.T) {
	_, err := Acquire(wintest.TempDir(t) + "/missing")
	if err == nil || errors.Is(err, ErrHeld) {
		t.Fatalf("Acquire in a missing folder = %v, want a file error", err)
	}
}

func TestHeldByAnotherProcess(t *testing.T) {
	dir := wintest.TempDir(t)
	other := startContender(t, dir)
	if got := other.goAndReport(t); got != "acquired" {
		t.Fatalf("contender: %s", got)
	}
	_, err := Acquire(dir)
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("Acquire = %v, want HeldError", err)
	}
	if held.Owner.PID != other.cmd.Process.Pid {
		t.Errorf("HeldError names pid %d, want the holder %d", held.Owner.PID, other.cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(other.cmd.Process.Pid)) {
		t.Errorf("error %q does not name the holder's pid", err)
	}
	other.release(t)
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder closed: %v", err)
	}
	l.Close()
}

func TestReleasedWhenOwnerDies(t *testing.T) {
	dir := wintest.TempDir(t)
	other := startContender(t, dir)
	if got := other.goAndReport(t); got != "acquired" {
		t.Fatalf("contender: %s", got)
	}
	if err := other.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	other.cmd.Wait()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	// The dead owner's record is replaced by ours.
	if owner, ok, _ := ReadOwner(dir); !ok || owner.PID != os.Getpid() {
		t.Errorf("ReadOwner = %+v, %v; want this process", owner, ok)
	}
	l.Close()
}

func TestRaceHasOneWinner(t *testing.T) {
	rounds, contenders := 5, 6
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			dir := wintest.TempDir(t)
			cs := make([]*contender, contenders)
			for i := range cs {
				cs[i] = startContender(t, dir)
			}
			// Everyone is started and waiting before anyone tries.
			for _, c := range cs {
				c.start(t)
			}
			winners, losers := 0, 0
			for _, c := range cs {
				switch got := c.report(t); {
				case got == "acquired":
					winners++
				case strings.HasPrefix(got, "held "):
					losers++
				default:
					t.Errorf("contender: %s", got)
				}
			}
			if winners != 1 || losers != contenders-1 {
				t.Fatalf("%d owners and %d refused, want 1 and %d", winners, losers, contenders-1)
			}
			for _, c := range cs {
				c.release(t)
			}
		})
	}
}

func TestHandingOver(t *testing.T) {
	dir := wintest.TempDir(t)
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	const taker = 4242
	if err := l.HandingOver(taker); err != nil {
		t.Fatal(err)
	}
	owner, ok, err := ReadOwner(dir)
	if err != nil || !ok || owner.PID != os.Getpid() || owner.Next.PID != taker || owner.Next.Since.IsZero() {
		t.Fatalf("while handing over ReadOwner = %+v, %v, %v; want this process, and next the taker", owner, ok, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Between the old owner's release and the taker's Acquire, the taker
	// is still named, and nobody owns the dir.
	released, ok, err := ReadOwner(dir)
	if err != nil || ok || released.Next != owner.Next {
		t.Fatalf("after Close ReadOwner = %+v, %v, %v; want no owner and next %+v", released, ok, err, owner.Next)
	}
	if err := l.HandingOver(taker); !errors.Is(err, os.ErrClosed) {
		t.Errorf("HandingOver after Close = %v, want os.ErrClosed", err)
	}
	l, err = Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if o, ok, err := ReadOwner(dir); err != nil || !ok || o.PID != os.Getpid() || o.Next != (Successor{}) {
		t.Errorf("after the next Acquire ReadOwner = %+v, %v, %v; want this process and no successor", o, ok, err)
	}
}

// A reader may catch a record written over a longer one before the file
// is cut to length: the first record counts.
func TestReadOwnerIgnoresOldTail(t *testing.T) {
	dir := wintest.TempDir(t)
	content := `{"pid":7,"started":"2026-01-02T03:04:05Z"}` + "\n" + `:"2026-01-02T03:04:05Z","next":{"pid":9}}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if o, ok, err := ReadOwner(dir); err != nil || !ok || o.PID != 7 || o.Next.PID != 0 {
		t.Errorf("ReadOwner = %+v, %v, %v; want pid 7 and no successor", o, ok, err)
	}
}
