package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// DefaultMaxBytes is the largest component Fetch downloads unless
// FetchOptions.MaxBytes says otherwise: 100 MiB, several times the largest
// JavaScript component.
const DefaultMaxBytes = 100 << 20

// DefaultFetchTimeout bounds a whole Fetch unless FetchOptions.Timeout or the
// context says otherwise.
const DefaultFetchTimeout = 10 * time.Minute

// maxPolicyBytes caps a bundled policy: a policy is a few KiB of YAML.
const maxPolicyBytes = 1 << 20

// maxSizeOption names the setting that raises the size limit, in errors.
const maxSizeOption = "the download size limit (FetchOptions.MaxBytes)"

// FetchOptions tune Fetch. The zero value works.
type FetchOptions struct {
	// MaxBytes caps the component's size; 0 means DefaultMaxBytes. Sizes
	// that are announced (a local file, Content-Length, an OCI descriptor)
	// are refused before anything is downloaded.
	MaxBytes int64
	// Timeout bounds the whole fetch; 0 means DefaultFetchTimeout.
	Timeout time.Duration
	// Progress, when set, is called as the component's bytes arrive with
	// the bytes so far and the total (-1 when unknown). It is called from
	// Fetch's goroutine and should return quickly.
	Progress func(done, total int64)
	// HTTPClient is used for https:// and oci:// sources; nil means a
	// client with connect, TLS and response-header timeouts. Fetch follows
	// redirects only to https URLs, whatever the client's CheckRedirect.
	HTTPClient *http.Client
	// DockerConfig is the Docker config file whose "auths" hold registry
	// credentials; "" means $DOCKER_CONFIG/config.json, else
	// ~/.docker/config.json. A missing file means anonymous pulls.
	DockerConfig string
}

// Fetched is a component fetched from its source, not yet stored.
type Fetched struct {
	// ID is the id Wassette gives a component from this source (see
	// IDFromURI).
	ID string
	// Source is the URI fetched; a relative path is made absolute.
	Source string
	// Bytes is the component's code, and Digest its sha256
	// ("sha256:<hex>").
	Bytes  []byte
	Digest string
	// BundledPolicy is a policy that came with the component: an OCI
	// policy layer, or <stem>.policy.yaml or policy.yaml beside a local
	// file. It is a proposal for a person to approve, never applied by the
	// store. BundledPolicySource says where it came from.
	BundledPolicy       []byte
	BundledPolicySource string
	// ManifestDigest is the OCI manifest's digest (oci:// only).
	ManifestDigest string
	// Config is the OCI config blob when its media type is
	// application/vnd.wasm.config.v0+json (oci:// only), digest-verified.
	Config []byte
	// Warnings are things a person should know that did not stop the
	// fetch, e.g. a bundled policy that does not parse (and was dropped).
	Warnings []string
}

// Fetch gets the component at uri: a local path, file://, https:// (http://
// only to a loopback host, for tests and local development) or
// oci://registry/repository[:tag][@digest]. The bytes are checked to be a
// WebAssembly component. Errors are *NotFoundError, *TooLargeError,
// *DigestMismatchError and *NotComponentError where those apply (test with
// errors.As), else say what failed.
func Fetch(ctx context.Context, uri string, opts FetchOptions) (*Fetched, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultFetchTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	scheme, _, hasScheme := strings.Cut(uri, "://")
	if !hasScheme || isWindowsDrive(uri) {
		return fetchLocal(uri, opts)
	}
	var (
		f   *Fetched
		err error
	)
	switch strings.ToLower(scheme) {
	case "file":
		path, perr := filePath(uri)
		if perr != nil {
			return nil, perr
		}
		f, err = fetchLocal(path, opts)
		if f != nil {
			f.Source = uri
		}
	case "http", "https":
		f, err = fetchHTTP(ctx, uri, opts)
	case "oci":
		f, err = fetchOCI(ctx, uri, opts)
	default:
		return nil, fmt.Errorf("load %s: unsupported scheme %q: use a file path, file://, https:// or oci://", uri, scheme)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && parent.Err() == nil {
			return nil, fmt.Errorf("load %s: gave up after %s: %w; check the network, or raise the fetch timeout", uri, opts.Timeout, err)
		}
		return nil, err
	}
	return f, nil
}

// filePath turns a file:// URL into a path.
func filePath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("load %s: not a valid file URL: %w", uri, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("load %s: file URLs on another host (%s) are not supported: copy the file here", uri, u.Host)
	}
	p := u.Path
	if runtime.GOOS == "windows" && len(p) >= 3 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // file:///C:/x → C:/x
	}
	if p == "" {
		return "", fmt.Errorf("load %s: the URL names no file", uri)
	}
	return filepath.FromSlash(p), nil
}

func fetchLocal(path string, opts FetchOptions) (*Fetched, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	id, err := IDFromURI(abs)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	data, err := readCapped(abs, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(int64(len(data)), int64(len(data)))
	}
	if err := checkComponent(abs, data); err != nil {
		return nil, err
	}
	f := &Fetched{ID: id, Source: abs, Bytes: data, Digest: digestOf(data)}
	dir := filepath.Dir(abs)
	for _, name := range []string{id + policySuffix, "policy.yaml"} {
		p := filepath.Join(dir, name)
		pol, err := readCapped(p, maxPolicyBytes)
		var nf *NotFoundError
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			f.Warnings = append(f.Warnings, fmt.Sprintf("the policy beside the component was not read: %v", err))
			break
		}
		f.proposePolicy(pol, p)
		break
	}
	return f, nil
}

// proposePolicy keeps a bundled policy that parses, and warns about one that
// does not.
func (f *Fetched) proposePolicy(data []byte, source string) {
	if _, err := policy.Parse(data); err != nil {
		f.Warnings = append(f.Warnings, fmt.Sprintf("the policy that came with the component (%s) does not parse and was ignored: %v", source, err))
		return
	}
	f.BundledPolicy = data
	f.BundledPolicySource = source
}

// readCapped reads a local file of at most limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Source: path, Detail: "no such file"}
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("load %s: it is a folder: name the .wasm file in it", path)
	}
	if fi.Size() > limit {
		return nil, &TooLargeError{Source: path, Size: fi.Size(), Limit: limit, Option: maxSizeOption}
	}
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Source: path, Size: -1, Limit: limit, Option: maxSizeOption}
	}
	return data, nil
}

func fetchHTTP(ctx context.Context, uri string, opts FetchOptions) (*Fetched, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("load %s: not a valid URL: %w", uri, err)
	}
	if err := checkTransport(u); err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	id, err := IDFromURI(uri)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	req.Header.Set("Accept", "application/wasm, application/octet-stream;q=0.9, */*;q=0.1")
	resp, err := httpClient(opts).Do(req)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, &NotFoundError{Source: uri, Detail: "HTTP " + resp.Status}
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("load %s: the server answered HTTP %s", uri, resp.Status)
	}
	data, err := readBody(resp.Body, resp.ContentLength, opts.MaxBytes, uri, opts.Progress)
	if err != nil {
		return nil, err
	}
	if err := checkComponent(uri, data); err != nil {
		return nil, err
	}
	return &Fetched{ID: id, Source: uri, Bytes: data, Digest: digestOf(data)}, nil
}

// readBody reads at most limit bytes of a response whose announced length is
// size (-1: unknown), reporting progress.
func readBody(body io.Reader, size, limit int64, source string, progress func(done, total int64)) ([]byte, error) {
	if size > limit {
		return nil, &TooLargeError{Source: source, Size: size, Limit: limit, Option: maxSizeOption}
	}
	if size < 0 {
		size = -1
	}
	capacity := size
	if capacity < 0 || capacity > 1<<20 {
		capacity = 1 << 20 // grow as it comes rather than trust a header
	}
	buf := make([]byte, 0, capacity)
	chunk := make([]byte, 64<<10)
	for {
		n, err := body.Read(chunk)
		if int64(len(buf))+int64(n) > limit {
			return nil, &TooLargeError{Source: source, Size: -1, Limit: limit, Option: maxSizeOption}
		}
		buf = append(buf, chunk[:n]...)
		if n > 0 && progress != nil {
			progress(int64(len(buf)), size)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load %s: reading failed after %d bytes: %w", source, len(buf), err)
		}
	}
}

// checkTransport refuses plain http except to a loopback host, where nothing
// crosses a network.
func checkTransport(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("plain http is refused (anyone on the way could swap the code): use https://%s", strings.TrimPrefix(u.String(), "http://"))
	}
	return fmt.Errorf("scheme %q is not supported here: use https", u.Scheme)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpClient returns the client to use: the caller's or a default one, with a
// redirect policy that follows only https.
func httpClient(opts FetchOptions) *http.Client {
	var c http.Client
	if opts.HTTPClient != nil {
		c = *opts.HTTPClient
	} else {
		c.Transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return fmt.Errorf("refused a redirect from %s to %s: redirects are followed only to https", via[len(via)-1].URL.Redacted(), req.URL.Redacted())
		}
		if len(via) >= 10 {
			return fmt.Errorf("stopped after %d redirects", len(via))
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}
