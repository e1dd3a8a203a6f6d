package activity

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects entries; zero fields match everything.
type Filter struct {
	Kinds     []Kind // any of these
	Component string
	Tool      string
	Client    string
	Since     time.Time // at or after
	Until     time.Time // before
}

// Match reports whether e passes f.
func (f Filter) Match(e Entry) bool {
	switch {
	case len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind),
		f.Component != "" && e.Component != f.Component,
		f.Tool != "" && e.Tool != f.Tool,
		f.Client != "" && e.Client != f.Client,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	}
	return true
}

// Read returns up to limit of the newest entries in dir's log that match f,
// oldest first (newest last), reading the rotated files too. limit ≤ 0
// means DefaultReadLimit; it is capped at MaxReadLimit. Memory use is
// bounded by limit entries whatever the files' size. Lines that are not
// entries (a torn write after a crash, a line over MaxLineSize) are skipped.
//
// Read works without an open Log (for `tapedeck logs` when no owner runs);
// entries appended meanwhile may or may not be seen.
func Read(dir string, f Filter, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	limit = min(limit, MaxReadLimit)
	files, err := logFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the activity log: %w", err)
	}
	ring := newRing(limit)
	for _, name := range files {
		file, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue // rotated away while we read
		}
		if err != nil {
			return nil, fmt.Errorf("reading the activity log: %w", err)
		}
		err = scan(file, f, ring)
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the activity log %s: %w", name, err)
		}
	}
	return ring.entries(), nil
}

// logFiles lists dir's log files oldest first.
func logFiles(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, FileName+".*"))
	if err != nil {
		return nil, err
	}
	type rotated struct {
		name string
		n    int
	}
	var old []rotated
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), FileName+"."))
		if err == nil && n > 0 {
			old = append(old, rotated{m, n})
		}
	}
	slices.SortFunc(old, func(a, b rotated) int { return b.n - a.n })
	var files []string
	for _, r := range old {
		files = append(files, r.name)
	}
	return append(files, filepath.Join(dir, FileName)), nil
}

// scan feeds r's matching entries into ring.
func scan(r io.Reader, f Filter, ring *ring) error {
	br := bufio.NewReaderSize(r, MaxLineSize)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Over MaxLineSize: not ours. Skip to the next line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			var e Entry
			if json.Unmarshal(line, &e) == nil && e.Kind != "" && f.Match(e) {
				ring.add(e)
			}
		}
		if err != nil {
			return nil // EOF
		}
	}
}

// ring keeps the last max entries added. It grows as entries come, so a
// small result costs little whatever the limit.
type ring struct {
	buf   []Entry
	max   int
	start int // index of the oldest entry once buf is full
}

func newRing(max int) *ring { return &ring{max: max} }

func (r *ring) add(e Entry) {
	if len(r.buf) < r.max {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.start] = e
	r.start = (r.start + 1) % r.max
}

// entries returns the kept entries, oldest first.
func (r *ring) entries() []Entry {
	return append(slices.Clone(r.buf[r.start:]), r.buf[:r.start]...)
}
