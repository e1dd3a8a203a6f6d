package store

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned (wrapped) when no component has the id asked for.
var ErrNotFound = errors.New("no such component")

// NotFoundError reports that nothing exists at a source: a missing file, an
// HTTP 404, an unknown OCI repository or tag.
type NotFoundError struct {
	Source string // the URI or path asked for
	Detail string // what answered, e.g. "HTTP 404 Not Found"
}

func (e *NotFoundError) Error() string {
	msg := "no component at " + e.Source
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg + ": check the path, URL or tag"
}

// DigestMismatchError reports bytes whose digest is not the one promised: by
// the reference (a pinned manifest), or by the manifest (a layer or config).
type DigestMismatchError struct {
	What     string // e.g. "layer 0 (application/wasm) of oci://…"
	Expected string // "sha256:…"
	Got      string // "sha256:…"
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("%s was tampered with or corrupted in transit: expected %s got %s; nothing was installed",
		e.What, e.Expected, e.Got)
}

// TooLargeError reports a download over its size limit. The download is
// refused before it starts when the size is announced, else stopped at the
// limit.
type TooLargeError struct {
	Source string
	Size   int64 // announced size, or -1 when only the limit is known to be passed
	Limit  int64
	Option string // the setting that raises the limit
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s is larger than the %s limit (%d bytes): raise %s if you trust it",
			e.Source, humanBytes(e.Limit), e.Limit, e.Option)
	}
	return fmt.Sprintf("%s is %d bytes (%s), over the %s limit (%d bytes): raise %s if you trust it",
		e.Source, e.Size, humanBytes(e.Size), humanBytes(e.Limit), e.Limit, e.Option)
}

// NotComponentError reports bytes that are not a WebAssembly component.
type NotComponentError struct {
	Source string
	Reason string
}

func (e *NotComponentError) Error() string {
	return fmt.Sprintf("%s is not a WebAssembly component: %s", e.Source, e.Reason)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.4g %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
