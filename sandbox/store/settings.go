package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// Settings are a component's settings that Wassette's policy has no field
// for, kept in <id>.tapedeck.json beside the policy. The zero value is an
// enabled component with the defaults.
//
// Nothing here is secret: secrets live in the keychain (sandbox/secrets).
type Settings struct {
	// Disabled components stay installed but offer no tools.
	Disabled bool
	// CallTimeout limits one tool call; zero means Tapedeck's default.
	CallTimeout time.Duration
	// MemoryLimit, in bytes, overrides the policy's resources.limits.memory;
	// zero means the policy's limit (or Tapedeck's default).
	MemoryLimit int64
	// Env holds the values the person set for environment variables the
	// policy allows. A policy still has to allow a key for the component to
	// see it.
	Env map[string]string
	// Source is where the code came from: a path, file://, https:// or
	// oci:// URI.
	Source string
	// CodeDigest is the sha256 of the code ("sha256:<hex>"). The store keeps
	// it: Put sets it, SetSettings ignores a value given here.
	CodeDigest string
	// GrantsDigest is the code digest the policy's grants were made for.
	// Grants belong to an id and a digest: when it differs from CodeDigest,
	// the code changed and the grants need a person's approval again.
	GrantsDigest string
	// PendingPolicy is a policy that arrived with the code (an OCI policy
	// layer, a policy.yaml beside the file) and awaits a person's approval.
	PendingPolicy *PendingPolicy
}

// PendingPolicy is a bundled policy proposed to the person.
type PendingPolicy struct {
	// Policy is the policy.yaml text as it arrived.
	Policy string `json:"policy"`
	// Source says where it came from, e.g. "/path/policy.yaml" or
	// "layer sha256:… of oci://…".
	Source string `json:"source,omitempty"`
	// CodeDigest is the digest of the code it arrived with.
	CodeDigest string `json:"code_digest,omitempty"`
}

// settingsVersion is the format version of <id>.tapedeck.json.
const settingsVersion = 1

// settingsFile is the JSON shape: durations as Go duration strings, so a
// person can read and edit the file.
type settingsFile struct {
	Version       int               `json:"version"`
	Disabled      bool              `json:"disabled,omitempty"`
	CallTimeout   string            `json:"call_timeout,omitempty"`
	MemoryLimit   int64             `json:"memory_limit_bytes,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	Source        string            `json:"source,omitempty"`
	CodeDigest    string            `json:"code_digest,omitempty"`
	GrantsDigest  string            `json:"grants_digest,omitempty"`
	PendingPolicy *PendingPolicy    `json:"pending_policy,omitempty"`
}

// maxSettingsSize caps what ParseSettings reads; a pending policy is the
// largest part.
const maxSettingsSize = 4 << 20

var (
	digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// envKeyPattern is what a POSIX shell accepts as a variable name, which
	// is also what a policy's environment rules name.
	envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ParseSettings reads a <id>.tapedeck.json. A pending policy must itself
// parse as a policy.
func ParseSettings(data []byte) (Settings, error) {
	if len(data) > maxSettingsSize {
		return Settings{}, fmt.Errorf("settings are %d bytes, over the %d-byte limit", len(data), maxSettingsSize)
	}
	var f settingsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Settings{}, fmt.Errorf("settings are not valid: %w", err)
	}
	if dec.More() {
		return Settings{}, errors.New("settings have data after their JSON object")
	}
	if f.Version != settingsVersion {
		return Settings{}, fmt.Errorf("settings version %d is not %d: a newer Tapedeck wrote them; upgrade Tapedeck", f.Version, settingsVersion)
	}
	s := Settings{
		Disabled:      f.Disabled,
		MemoryLimit:   f.MemoryLimit,
		Env:           f.Env,
		Source:        f.Source,
		CodeDigest:    f.CodeDigest,
		GrantsDigest:  f.GrantsDigest,
		PendingPolicy: f.PendingPolicy,
	}
	if f.CallTimeout != "" {
		d, err := time.ParseDuration(f.CallTimeout)
		if err != nil {
			return Settings{}, fmt.Errorf("settings call_timeout %q: write a duration such as \"30s\" or \"2m\"", f.CallTimeout)
		}
		s.CallTimeout = d
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate reports the first setting that cannot be right.
func (s Settings) Validate() error {
	if s.CallTimeout < 0 {
		return fmt.Errorf("call timeout %s is negative", s.CallTimeout)
	}
	if s.MemoryLimit < 0 {
		return fmt.Errorf("memory limit %d is negative", s.MemoryLimit)
	}
	for k, v := range s.Env {
		if !envKeyPattern.MatchString(k) {
			return fmt.Errorf("environment variable name %q: use letters, digits and '_', not starting with a digit", k)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("environment variable %s: the value holds a NUL byte, which no program can receive", k)
		}
	}
	for name, d := range map[string]string{"code digest": s.CodeDigest, "grants digest": s.GrantsDigest} {
		if d != "" && !digestPattern.MatchString(d) {
			return fmt.Errorf("%s %q is not sha256:<64 lowercase hex digits>", name, d)
		}
	}
	if p := s.PendingPolicy; p != nil {
		if p.CodeDigest != "" && !digestPattern.MatchString(p.CodeDigest) {
			return fmt.Errorf("pending policy code digest %q is not sha256:<64 lowercase hex digits>", p.CodeDigest)
		}
		if _, err := policy.Parse([]byte(p.Policy)); err != nil {
			return fmt.Errorf("pending policy: %w", err)
		}
	}
	return nil
}

// Marshal encodes the settings as the store writes them.
func (s Settings) Marshal() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	f := settingsFile{
		Version:       settingsVersion,
		Disabled:      s.Disabled,
		MemoryLimit:   s.MemoryLimit,
		Env:           s.Env,
		Source:        s.Source,
		CodeDigest:    s.CodeDigest,
		GrantsDigest:  s.GrantsDigest,
		PendingPolicy: s.PendingPolicy,
	}
	if s.CallTimeout != 0 {
		f.CallTimeout = s.CallTimeout.String()
	}
	data, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	return append(data, '\n'), nil
}
