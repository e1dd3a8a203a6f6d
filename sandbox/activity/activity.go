// Package activity keeps Tapedeck's activity log: what components were
// loaded, which tools were called by which client, what was asked, granted,
// denied and revoked. The tray's Activity window and `tapedeck logs` read it.
//
// The log is JSON lines in <data dir>/activity.jsonl, one Entry per line,
// rotated by size (activity.jsonl.1 is the newest rotated file). Every
// string of an entry passes through a Redactor before it is written, so
// known secret values never reach the disk.
//
//	log, err := activity.Open(activity.Options{Dir: dirs.Data, Redactor: store.Redactor()})
//	if err != nil { … }
//	defer log.Close()
//	log.Append(activity.Entry{Kind: activity.KindCall, Component: "weather", Tool: "get", Result: "ok"})
//	recent, err := log.Read(activity.Filter{Component: "weather"}, 100)
package activity

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"
)

// FileName is the current log file's name in the data dir; rotated files
// add ".1", ".2", … (higher is older).
const FileName = "activity.jsonl"

// Defaults for Options.
const (
	DefaultMaxSize = 5 << 20
	DefaultKeep    = 3
)

// Limits on what one entry and one Read may hold.
const (
	// MaxLineSize is the largest encoded entry. Longer entries are shortened
	// (Detail values and Result cut to maxFieldSize) before they are written;
	// longer lines found in a file are skipped by Read.
	MaxLineSize  = 64 << 10
	maxFieldSize = 1 << 10

	DefaultReadLimit = 1000
	MaxReadLimit     = 10000
)

// ErrClosed is returned by Append and Read on a closed Log.
var ErrClosed = errors.New("activity log is closed")

// Kind is what an entry records. The constants are the kinds Tapedeck
// writes; readers must accept kinds they do not know.
type Kind string

const (
	KindCall    Kind = "call"    // a tool call finished (Result, Duration)
	KindAsk     Kind = "ask"     // a component asked for an access
	KindAnswer  Kind = "answer"  // the person (or a fixed policy) answered an ask
	KindDenial  Kind = "denial"  // an access was denied by policy
	KindGrant   Kind = "grant"   // a permission was granted
	KindRevoke  Kind = "revoke"  // a permission was revoked or reset
	KindLoad    Kind = "load"    // a component was loaded or replaced
	KindUnload  Kind = "unload"  // a component was unloaded
	KindClient  Kind = "client"  // an MCP client connected or disconnected
	KindSecret  Kind = "secret"  // a secret was set or deleted (never its value)
	KindSetting Kind = "setting" // a setting was changed
)

// Entry is one record. Every string in it is redacted when appended.
type Entry struct {
	Time      time.Time         `json:"time"` // zero means now
	Kind      Kind              `json:"kind"`
	Component string            `json:"component,omitempty"`
	Tool      string            `json:"tool,omitempty"`
	Client    string            `json:"client,omitempty"` // as shown to a person, e.g. "Claude Code · claude (pid 4121)"
	Detail    map[string]string `json:"detail,omitempty"`
	Result    string            `json:"result,omitempty"` // "ok", "denied", an error message, …
	Duration  time.Duration     `json:"duration_ns,omitempty"`
}

// Redactor blanks out secret values in a string; *secrets.Redactor is one.
type Redactor interface {
	String(s string) string
}

// Options configures Open. Only Dir is required.
type Options struct {
	// Dir is the folder the log lives in (the data dir); it is created with
	// mode 0700 if missing.
	Dir string
	// MaxSize is the size in bytes at which the current file is rotated;
	// 0 means DefaultMaxSize (5 MiB).
	MaxSize int64
	// Keep is how many rotated files are kept; 0 means DefaultKeep (3).
	// The log thus takes at most about (Keep+1)×MaxSize on disk.
	Keep int
	// Redactor is applied to every string of every entry; nil means none.
	Redactor Redactor
	// Now gives the time for entries without one; nil means time.Now.
	Now func() time.Time
}

// Log appends entries to the activity log and reads them back. It is safe
// for concurrent use. One process (the data dir's owner) should write a
// log; each entry is written with one append-mode write, so a crash loses
// at most the entries being written, and a torn last line is skipped by
// Read. Entries are not synced to disk one by one.
type Log struct {
	opts Options
	path string

	mu   sync.Mutex
	f    *os.File // nil once closed
	size int64
}

// Open opens (creating if needed) the log in opts.Dir.
func Open(opts Options) (*Log, error) {
	if opts.Dir == "" {
		return nil, errors.New("opening the activity log: no folder given")
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening the activity log: %w", err)
	}
	l := &Log{opts: opts, path: filepath.Join(opts.Dir, FileName)}
	if err := l.openFile(); err != nil {
		return nil, fmt.Errorf("opening the activity log: %w", err)
	}
	return l, nil
}

func (l *Log) openFile() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	if l.size > 0 && !endsWithNewline(l.path, l.size) {
		// A crash cut the last line short: end it, or the next entry
		// would be glued to it and lost with it.
		n, err := f.Write([]byte{'\n'})
		l.size += int64(n)
		if err != nil {
			f.Close()
			l.f = nil
			return err
		}
	}
	return nil
}

func endsWithNewline(path string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // nothing to repair that we can see
	}
	defer f.Close()
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return true
	}
	return last[0] == '\n'
}

// Append writes e to the log, after redacting every string in it and
// shortening it to MaxLineSize. It rotates the files first when the entry
// would take the current file past MaxSize.
func (l *Log) Append(e Entry) error {
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC()
	line, err := encode(l.redact(e))
	if err != nil {
		return fmt.Errorf("appending to the activity log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	if l.size > 0 && l.size+int64(len(line)) > l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			return fmt.Errorf("rotating the activity log: %w", err)
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("appending to the activity log: %w", err)
	}
	return nil
}

// rotate shifts activity.jsonl.N to .N+1 (dropping the oldest) and starts
// a new current file. Called with l.mu held.
func (l *Log) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	var errs []error
	for i := l.opts.Keep; i >= 1; i-- {
		from := l.path
		if i > 1 {
			from = fmt.Sprintf("%s.%d", l.path, i-1)
		}
		err := os.Rename(from, fmt.Sprintf("%s.%d", l.path, i))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	// Even when a rename failed, keep logging: into the old file if it is
	// still there, else into a new one.
	if err := l.openFile(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close closes the log; later Appends return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Read returns up to limit of the newest entries matching f, oldest first
// (newest last). See the package function Read. Appends wait while it reads
// (at most (Keep+1)×MaxSize bytes), so rotation cannot move files under it.
func (l *Log) Read(f Filter, limit int) ([]Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil, ErrClosed
	}
	return Read(l.opts.Dir, f, limit)
}

func (l *Log) redact(e Entry) Entry {
	r := l.opts.Redactor
	if r == nil {
		return e
	}
	e.Kind = Kind(r.String(string(e.Kind)))
	e.Component = r.String(e.Component)
	e.Tool = r.String(e.Tool)
	e.Client = r.String(e.Client)
	e.Result = r.String(e.Result)
	if e.Detail != nil {
		d := make(map[string]string, len(e.Detail))
		for k, v := range e.Detail {
			d[r.String(k)] = r.String(v)
		}
		e.Detail = d
	}
	return e
}

// encode returns e as one JSON line no longer than MaxLineSize.
func encode(e Entry) ([]byte, error) {
	line, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if len(line)+1 > MaxLineSize {
		e.Result = shorten(e.Result, maxFieldSize)
		d := make(map[string]string, len(e.Detail)+1)
		for k, v := range e.Detail {
			d[shorten(k, 128)] = shorten(v, maxFieldSize)
		}
		d["truncated"] = "true"
		e.Detail = d
		if line, err = json.Marshal(e); err != nil {
			return nil, err
		}
	}
	if len(line)+1 > MaxLineSize {
		// Still too long: many Detail fields, or huge names. Keep the
		// entry's identity and drop the rest.
		e.Detail = map[string]string{"truncated": "true"}
		e.Component = shorten(e.Component, maxFieldSize)
		e.Tool = shorten(e.Tool, maxFieldSize)
		e.Client = shorten(e.Client, maxFieldSize)
		e.Kind = Kind(shorten(string(e.Kind), maxFieldSize))
		if line, err = json.Marshal(e); err != nil {
			return nil, err
		}
	}
	return append(line, '\n'), nil
}

// shorten cuts s to at most max bytes on a UTF-8 boundary, marking the cut.
func shorten(s string, max int) string {
	const mark = "…[cut]"
	if len(s) <= max {
		return s
	}
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
