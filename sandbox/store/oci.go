package store

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// OCI media types of a Wasm component artifact.
var (
	wasmLayerTypes = []string{
		"application/wasm",
		"application/vnd.wasm.component.v1",
		"application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
	}
	policyLayerTypes = []string{
		"application/vnd.wasm.policy.v1+yaml",
		"application/vnd.wassette.policy+yaml",
		"application/x-yaml",
		"text/yaml",
	}
)

const (
	wasmConfigType     = "application/vnd.wasm.config.v0+json"
	ociManifestType    = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType       = "application/vnd.oci.image.index.v1+json"
	dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
	dockerListType     = "application/vnd.docker.distribution.manifest.list.v2+json"

	maxManifestBytes = 4 << 20
	maxConfigBytes   = 1 << 20
)

// ociReference is oci://registry/repository[:tag][@digest], parsed.
type ociReference struct {
	registry   string // as written, e.g. "ghcr.io" or "127.0.0.1:5000"
	repository string // e.g. "microsoft/time-server-js"
	tag        string // "" when pinned by digest alone
	digest     string // "sha256:…" or ""
}

var (
	repoComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	digestFormat  = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)
)

// parseOCIReference parses what follows "oci://".
func parseOCIReference(s string) (ociReference, error) {
	var ref ociReference
	bad := func(why string) (ociReference, error) {
		return ociReference{}, fmt.Errorf("oci://%s is not an OCI reference: %s (write oci://registry/repository:tag or …@sha256:<digest>)", s, why)
	}
	rest, digest, pinned := strings.Cut(s, "@")
	if pinned {
		if !digestFormat.MatchString(digest) {
			return bad(fmt.Sprintf("digest %q is not sha256:<64 hex digits>", digest))
		}
		ref.digest = digest
	}
	registry, path, ok := strings.Cut(rest, "/")
	if !ok || registry == "" || path == "" {
		return bad("it needs a registry host and a repository")
	}
	if !strings.ContainsAny(registry, ".:") && registry != "localhost" {
		return bad(fmt.Sprintf("%q is not a registry host (Docker Hub is docker.io)", registry))
	}
	if strings.ContainsAny(registry, "@?#\\ ") {
		return bad(fmt.Sprintf("registry host %q", registry))
	}
	if i := strings.LastIndexByte(path, ':'); i >= 0 {
		ref.tag = path[i+1:]
		path = path[:i]
		if !tagPattern.MatchString(ref.tag) {
			return bad(fmt.Sprintf("tag %q", ref.tag))
		}
	}
	for _, c := range strings.Split(path, "/") {
		if !repoComponent.MatchString(c) {
			return bad(fmt.Sprintf("repository %q: use lowercase letters, digits and . _ - between /", path))
		}
	}
	if len(path) > 255 {
		return bad("the repository name is longer than 255 characters")
	}
	ref.registry, ref.repository = registry, path
	if ref.tag == "" && ref.digest == "" {
		ref.tag = "latest"
	}
	return ref, nil
}

func (r ociReference) String() string {
	s := "oci://" + r.registry + "/" + r.repository
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// apiHost is the host serving the registry API: Docker Hub's differs from
// the name people write.
func (r ociReference) apiHost() string {
	if r.registry == "docker.io" || r.registry == "index.docker.io" {
		return "registry-1.docker.io"
	}
	return r.registry
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *platform `json:"platform,omitempty"`
}

type platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
}

// manifest is an image manifest or an index; which is known from MediaType
// (or the response's Content-Type when the body omits it).
type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	ArtifactType  string       `json:"artifactType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
	Manifests     []descriptor `json:"manifests"`
}

func fetchOCI(ctx context.Context, uri string, opts FetchOptions) (*Fetched, error) {
	ref, err := parseOCIReference(uri[len("oci://"):])
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	id, err := IDFromURI(uri)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	creds, err := loadDockerCredentials(opts.DockerConfig, ref.registry)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	c := &registryClient{http: httpClient(opts), ref: ref, scheme: "https", creds: creds}

	reference := ref.digest
	if reference == "" {
		reference = ref.tag
	}
	m, manifestDigest, err := c.manifest(ctx, reference, ref.digest)
	if err != nil {
		return nil, err
	}
	if isIndex(m) {
		chosen, err := chooseFromIndex(ref, m)
		if err != nil {
			return nil, err
		}
		m, manifestDigest, err = c.manifest(ctx, chosen.Digest, chosen.Digest)
		if err != nil {
			return nil, err
		}
		if isIndex(m) {
			return nil, fmt.Errorf("load %s: an index inside an index is not supported: pin the component's manifest by digest", ref)
		}
	}

	f := &Fetched{ID: id, Source: uri, ManifestDigest: manifestDigest}
	wasmAt, policyAt := -1, -1
	for i, l := range m.Layers {
		switch {
		case wasmAt < 0 && slices.Contains(wasmLayerTypes, l.MediaType):
			wasmAt = i
		case policyAt < 0 && slices.Contains(policyLayerTypes, l.MediaType):
			policyAt = i
		}
	}
	if wasmAt < 0 {
		types := make([]string, len(m.Layers))
		for i, l := range m.Layers {
			types[i] = l.MediaType
		}
		return nil, fmt.Errorf("load %s: the artifact has no WebAssembly layer (its layers are %q; expected one of %q): is this a container image rather than a component?", ref, types, wasmLayerTypes)
	}
	wasmLayer := m.Layers[wasmAt]
	what := fmt.Sprintf("layer %d (%s) of %s", wasmAt, wasmLayer.MediaType, ref)
	if wasmLayer.Size > opts.MaxBytes {
		return nil, &TooLargeError{Source: what, Size: wasmLayer.Size, Limit: opts.MaxBytes, Option: maxSizeOption}
	}
	f.Bytes, err = c.blob(ctx, wasmLayer, what, opts.Progress)
	if err != nil {
		return nil, err
	}
	if err := checkComponent(what, f.Bytes); err != nil {
		return nil, err
	}
	f.Digest = digestOf(f.Bytes)

	if policyAt >= 0 {
		l := m.Layers[policyAt]
		what := fmt.Sprintf("policy layer %d (%s) of %s", policyAt, l.MediaType, ref)
		if l.Size > maxPolicyBytes {
			f.Warnings = append(f.Warnings, fmt.Sprintf("%s is %d bytes, more than a policy can be (%d): ignored", what, l.Size, maxPolicyBytes))
		} else {
			pol, err := c.blob(ctx, l, what, nil)
			if err != nil {
				return nil, err // a tampered layer taints the whole artifact
			}
			f.proposePolicy(pol, fmt.Sprintf("layer %s of %s", l.Digest, ref))
		}
	}
	if m.Config.MediaType == wasmConfigType {
		what := fmt.Sprintf("config (%s) of %s", m.Config.MediaType, ref)
		if m.Config.Size > maxConfigBytes {
			f.Warnings = append(f.Warnings, fmt.Sprintf("%s is %d bytes, more than a config can be (%d): ignored", what, m.Config.Size, maxConfigBytes))
		} else if f.Config, err = c.blob(ctx, m.Config, what, nil); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func isIndex(m *manifest) bool {
	return m.MediaType == ociIndexType || m.MediaType == dockerListType
}

// chooseFromIndex picks the manifest for a Wasm component from an index: one
// whose platform is wasm, else the only one.
func chooseFromIndex(ref ociReference, m *manifest) (descriptor, error) {
	var wasm []descriptor
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Architecture == "wasm" {
			wasm = append(wasm, d)
		}
	}
	var chosen descriptor
	switch {
	case len(wasm) >= 1:
		chosen = wasm[0]
	case len(m.Manifests) == 1:
		chosen = m.Manifests[0]
	default:
		return descriptor{}, fmt.Errorf("load %s: the reference names an index of %d manifests, none for the wasm architecture: pin the component's manifest by digest", ref, len(m.Manifests))
	}
	if !digestFormat.MatchString(chosen.Digest) {
		return descriptor{}, fmt.Errorf("load %s: its index names the manifest %q, which is not a digest Tapedeck can verify", ref, chosen.Digest)
	}
	return chosen, nil
}

// registryClient speaks the OCI distribution API for one repository.
type registryClient struct {
	http   *http.Client
	ref    ociReference
	scheme string // "https"; "http" after a loopback registry answered plain HTTP
	creds  *dockerCredentials
	auth   string // Authorization header value once a challenge was answered
}

// manifest gets a manifest by tag or digest. When pinned is set, the
// manifest's bytes must hash to it; otherwise they must match the digest the
// registry announces, if it does.
func (c *registryClient) manifest(ctx context.Context, reference, pinned string) (*manifest, string, error) {
	what := "the manifest of " + c.ref.String()
	resp, err := c.get(ctx, "/manifests/"+reference,
		strings.Join([]string{ociManifestType, ociIndexType, dockerManifestType, dockerListType}, ", "))
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if err := c.checkStatus(resp, what, false); err != nil {
		return nil, "", err
	}
	if resp.ContentLength > maxManifestBytes {
		return nil, "", fmt.Errorf("load %s: its manifest is %d bytes, more than a manifest can be (%d)", c.ref, resp.ContentLength, maxManifestBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("load %s: reading its manifest: %w", c.ref, err)
	}
	if len(body) > maxManifestBytes {
		return nil, "", fmt.Errorf("load %s: its manifest is more than %d bytes", c.ref, maxManifestBytes)
	}
	expected := pinned
	if expected == "" {
		expected = resp.Header.Get("Docker-Content-Digest")
	}
	digest := "sha256:" + hexSum(sha256.New(), body)
	if expected != "" {
		got, err := digestWith(expected, body)
		if err != nil {
			return nil, "", fmt.Errorf("load %s: %w", c.ref, err)
		}
		if got != expected {
			return nil, "", &DigestMismatchError{What: what, Expected: expected, Got: got}
		}
		digest = expected
	}
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "", fmt.Errorf("load %s: its manifest is not valid JSON: %w", c.ref, err)
	}
	if m.MediaType == "" {
		m.MediaType, _, _ = strings.Cut(resp.Header.Get("Content-Type"), ";")
		m.MediaType = strings.TrimSpace(m.MediaType)
	}
	if m.MediaType == "" && len(m.Manifests) > 0 && len(m.Layers) == 0 {
		m.MediaType = ociIndexType
	}
	if m.SchemaVersion != 2 {
		return nil, "", fmt.Errorf("load %s: manifest schema version %d is not supported (only 2)", c.ref, m.SchemaVersion)
	}
	return &m, digest, nil
}

// blob downloads one blob and checks its size and digest against d.
func (c *registryClient) blob(ctx context.Context, d descriptor, what string, progress func(done, total int64)) ([]byte, error) {
	if d.Size < 0 {
		return nil, fmt.Errorf("load %s: %s has a negative size in the manifest", c.ref, what)
	}
	if !digestFormat.MatchString(d.Digest) {
		return nil, fmt.Errorf("load %s: %s has digest %q, which Tapedeck cannot verify (only sha256 and sha512)", c.ref, what, d.Digest)
	}
	resp, err := c.get(ctx, "/blobs/"+d.Digest, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := c.checkStatus(resp, what, true); err != nil {
		return nil, err
	}
	if resp.ContentLength >= 0 && resp.ContentLength != d.Size {
		return nil, fmt.Errorf("%s was tampered with or corrupted in transit: the manifest says %d bytes, the registry sends %d; nothing was installed", what, d.Size, resp.ContentLength)
	}
	// Read one byte past the promised size, to notice a longer body.
	data, err := readBody(io.LimitReader(resp.Body, d.Size+1), d.Size, d.Size+1, what, progress)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != d.Size {
		return nil, fmt.Errorf("%s was tampered with or corrupted in transit: the manifest says %d bytes, got %d; nothing was installed", what, d.Size, len(data))
	}
	got, err := digestWith(d.Digest, data)
	if err != nil {
		return nil, err
	}
	if got != d.Digest {
		return nil, &DigestMismatchError{What: what, Expected: d.Digest, Got: got}
	}
	return data, nil
}

// get sends GET /v2/<repository><path>, answering one auth challenge.
func (c *registryClient) get(ctx context.Context, path, accept string) (*http.Response, error) {
	resp, err := c.send(ctx, path, accept)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized || c.auth != "" {
		return resp, nil
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err := c.authorize(ctx, challenge); err != nil {
		return nil, err
	}
	return c.send(ctx, path, accept)
}

func (c *registryClient) send(ctx context.Context, path, accept string) (*http.Response, error) {
	u := c.scheme + "://" + c.ref.apiHost() + "/v2/" + c.ref.repository + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", c.ref, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil && c.scheme == "https" && errors.Is(err, http.ErrSchemeMismatch) && isLoopbackHost(hostOnly(c.ref.apiHost())) {
		// A registry on this machine serving plain HTTP (the usual local
		// development registry): nothing crosses a network.
		c.scheme = "http"
		return c.send(ctx, path, accept)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: cannot reach the registry %s: %w", c.ref, c.ref.registry, err)
	}
	return resp, nil
}

func hostOnly(hostport string) string {
	if u, err := url.Parse("//" + hostport); err == nil {
		return u.Hostname()
	}
	return hostport
}

// checkStatus turns an unsuccessful response into an error a person can act
// on, consuming its body; a successful one is left for the caller.
func (c *registryClient) checkStatus(resp *http.Response, what string, isBlob bool) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var apiErr struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	detail := "HTTP " + resp.Status
	codes := []string{}
	if json.Unmarshal(body, &apiErr) == nil {
		for _, e := range apiErr.Errors {
			codes = append(codes, e.Code)
			detail += "; " + e.Code
			if e.Message != "" {
				detail += ": " + e.Message
			}
		}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound, slices.Contains(codes, "NAME_UNKNOWN"), slices.Contains(codes, "MANIFEST_UNKNOWN"):
		if isBlob {
			return fmt.Errorf("load %s: %s is missing from the registry (%s): the artifact is incomplete; ask its publisher to push it again", c.ref, what, detail)
		}
		return &NotFoundError{Source: c.ref.String(), Detail: detail}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return c.credentialsError(detail)
	}
	return fmt.Errorf("load %s: the registry answered %s for %s", c.ref, detail, what)
}

func (c *registryClient) credentialsError(detail string) error {
	switch {
	case c.creds == nil:
		return fmt.Errorf("load %s: the registry %s wants credentials (%s): run `docker login %s` (Tapedeck reads the \"auths\" of ~/.docker/config.json)", c.ref, c.ref.registry, detail, c.ref.registry)
	case c.creds.helper != "":
		return fmt.Errorf("load %s: the registry %s wants credentials (%s), and yours are kept by the Docker credential helper %q, which Tapedeck does not read: put them in the \"auths\" of %s", c.ref, c.ref.registry, detail, c.creds.helper, c.creds.file)
	}
	return fmt.Errorf("load %s: the registry %s refused the credentials for it in %s (%s): run `docker login %s` again, or check that your account may pull %s", c.ref, c.ref.registry, c.creds.file, detail, c.ref.registry, c.ref.repository)
}

// authorize answers a WWW-Authenticate challenge: Basic with the person's
// credentials, or Bearer with a token from the challenge's realm (with the
// credentials when there are some, anonymously otherwise).
func (c *registryClient) authorize(ctx context.Context, challenge string) error {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if c.creds == nil || c.creds.username == "" {
			return c.credentialsError("HTTP 401 Unauthorized")
		}
		if c.scheme != "https" && !isLoopbackHost(hostOnly(c.ref.apiHost())) {
			return fmt.Errorf("load %s: refusing to send a password over plain http", c.ref)
		}
		c.auth = "Basic " + basicAuth(c.creds.username, c.creds.password)
		return nil
	case "bearer":
		token, err := c.token(ctx, params)
		if err != nil {
			return err
		}
		c.auth = "Bearer " + token
		return nil
	}
	return fmt.Errorf("load %s: the registry %s asks for authentication Tapedeck does not speak (%q)", c.ref, c.ref.registry, challenge)
}

func (c *registryClient) token(ctx context.Context, params map[string]string) (string, error) {
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Host == "" {
		return "", fmt.Errorf("load %s: the registry's token service %q is not a URL", c.ref, params["realm"])
	}
	if err := checkTransport(realm); err != nil {
		return "", fmt.Errorf("load %s: the registry's token service %s: %w", c.ref, realm.Redacted(), err)
	}
	q := realm.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	scope := params["scope"]
	if scope == "" {
		scope = "repository:" + c.ref.repository + ":pull"
	}
	q.Set("scope", scope)
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", fmt.Errorf("load %s: %w", c.ref, err)
	}
	if c.creds != nil && c.creds.username != "" {
		req.SetBasicAuth(c.creds.username, c.creds.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("load %s: cannot reach the registry's token service: %w", c.ref, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", c.credentialsError("token service answered HTTP " + resp.Status)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return "", fmt.Errorf("load %s: the registry's token service sent no token: %w", c.ref, err)
	}
	if tok.Token == "" {
		tok.Token = tok.AccessToken
	}
	if tok.Token == "" {
		return "", fmt.Errorf("load %s: the registry's token service sent an empty token", c.ref)
	}
	return tok.Token, nil
}

// parseChallenge splits `Bearer realm="…",service="…"` into its scheme and
// parameters.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if strings.HasPrefix(after, `"`) {
			end := 1
			for end < len(after) && after[end] != '"' {
				if after[end] == '\\' {
					end++
				}
				end++
			}
			val = strings.ReplaceAll(after[1:min(end, len(after))], `\`, "")
			rest = after[min(end+1, len(after)):]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			rest = "," + rest
		}
		params[key] = val
		rest = strings.TrimLeft(rest, ", ")
	}
	return scheme, params
}

// digestWith hashes data with the algorithm named in want ("sha256:…").
func digestWith(want string, data []byte) (string, error) {
	alg, _, _ := strings.Cut(want, ":")
	var h hash.Hash
	switch alg {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return "", fmt.Errorf("digest %q uses an algorithm Tapedeck cannot verify (only sha256 and sha512)", want)
	}
	return alg + ":" + hexSum(h, data), nil
}

func hexSum(h hash.Hash, data []byte) string {
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}
