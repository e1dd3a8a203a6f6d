package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

func TestFetchLocal(t *testing.T) {
	t.Parallel()
	tool := component(t, testcomponents.CTool)
	dir := t.TempDir()
	path := filepath.Join(dir, "weather.wasm")
	if err := os.WriteFile(path, tool, 0o644); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "bare")
	if err := os.MkdirAll(bare, 0o755); err != nil {
		t.Fatal(err)
	}
	barePath := filepath.Join(bare, "bare.wasm")
	if err := os.WriteFile(barePath, tool, 0o644); err != nil {
		t.Fatal(err)
	}
	generic := filepath.Join(dir, "generic")
	if err := os.MkdirAll(generic, 0o755); err != nil {
		t.Fatal(err)
	}
	genericPath := filepath.Join(generic, "x.wasm")
	for name, data := range map[string][]byte{genericPath: tool, filepath.Join(generic, "policy.yaml"): policyYAML("generic")} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Beside weather.wasm: its own policy wins over a generic policy.yaml.
	for name, data := range map[string][]byte{"weather.policy.yaml": policyYAML("specific"), "policy.yaml": policyYAML("generic")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fileURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()

	tests := []struct {
		name, uri, id, source, policy string
	}{
		{"path", path, "weather", path, "specific"},
		{"file-url", fileURL, "weather", fileURL, "specific"},
		{"generic-policy", genericPath, "x", genericPath, "generic"},
		{"no-policy", barePath, "bare", barePath, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls [][2]int64
			f, err := Fetch(context.Background(), tt.uri, FetchOptions{Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }})
			if err != nil {
				t.Fatal(err)
			}
			if f.ID != tt.id || f.Source != tt.source || f.Digest != digestOf(tool) || string(f.Bytes) != string(tool) {
				t.Errorf("Fetch = id %q source %q digest %s; want %q %q %s", f.ID, f.Source, f.Digest, tt.id, tt.source, digestOf(tool))
			}
			if tt.policy == "" && f.BundledPolicy != nil {
				t.Errorf("found a bundled policy where there is none: %q", f.BundledPolicy)
			}
			if tt.policy != "" && string(f.BundledPolicy) != string(policyYAML(tt.policy)) {
				t.Errorf("bundled policy %q (from %s), want the %s one", f.BundledPolicy, f.BundledPolicySource, tt.policy)
			}
			if n := len(calls); n == 0 || calls[n-1] != [2]int64{int64(len(tool)), int64(len(tool))} {
				t.Errorf("progress calls %v do not end at %d/%d", calls, len(tool), len(tool))
			}
		})
	}
}

func TestFetchLocalErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tool := component(t, testcomponents.CTool)
	big := filepath.Join(dir, "big.wasm")
	core := filepath.Join(dir, "core.wasm")
	badPolicyDir := filepath.Join(dir, "bad")
	for name, data := range map[string][]byte{
		big:  tool,
		core: {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 2, 3},
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(badPolicyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badPolicyDir, "x.wasm"), tool, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badPolicyDir, "policy.yaml"), []byte("version: \"7\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	var notFound *NotFoundError
	var tooLarge *TooLargeError
	var notComponent *NotComponentError
	tests := []struct {
		name string
		uri  string
		opts FetchOptions
		as   any
		want string
	}{
		{"missing", filepath.Join(dir, "nothing.wasm"), FetchOptions{}, &notFound, "no component at"},
		{"folder", dir, FetchOptions{}, nil, "it is a folder"},
		{"too-big", big, FetchOptions{MaxBytes: 1000}, &tooLarge, "FetchOptions.MaxBytes"},
		{"core-module", core, FetchOptions{}, &notComponent, "wasm-tools component new"},
		{"remote-file-url", "file://otherhost/x.wasm", FetchOptions{}, nil, "another host"},
		{"unknown-scheme", "ftp://example.com/x.wasm", FetchOptions{}, nil, "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Fetch(context.Background(), tt.uri, tt.opts)
			if err == nil {
				t.Fatalf("Fetch = %+v, want an error", f.ID)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %v is not a %T", err, tt.as)
			}
		})
	}

	// A bundled policy that does not parse is dropped with a warning: it
	// was only ever a proposal.
	f, err := Fetch(context.Background(), filepath.Join(badPolicyDir, "x.wasm"), FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.BundledPolicy != nil || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "does not parse") {
		t.Errorf("bad bundled policy: policy %q, warnings %q", f.BundledPolicy, f.Warnings)
	}
}

// tlsServer serves handler over TLS on 127.0.0.1 and returns its URL and a
// client that trusts it.
func tlsServer(t *testing.T, handler http.Handler) (string, *http.Client) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL, srv.Client()
}

func TestFetchHTTPS(t *testing.T) {
	t.Parallel()
	tool := component(t, testcomponents.CTool)
	mux := http.NewServeMux()
	mux.HandleFunc("/releases/fetch-rs.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		w.Header().Set("Content-Length", fmt.Sprint(len(tool)))
		w.Write(tool)
	})
	mux.HandleFunc("/chunked/tool.wasm", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the cap is enforced while reading.
		for i := 0; i < len(tool); i += 4096 {
			w.Write(tool[i:min(i+4096, len(tool))])
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/page.wasm", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><html>Sign in</html>")
	})
	mux.HandleFunc("/broken.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	var plain *httptest.Server
	mux.HandleFunc("/to-http.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/tool.wasm", http.StatusFound)
	})
	mux.HandleFunc("/to-https.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/releases/fetch-rs.wasm", http.StatusFound)
	})
	var plainHits sync.Map
	plain = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Store(r.URL.Path, true)
		w.Write(tool)
	}))
	t.Cleanup(plain.Close)
	base, client := tlsServer(t, mux)

	t.Run("download", func(t *testing.T) {
		var last [2]int64
		f, err := Fetch(context.Background(), base+"/releases/fetch-rs.wasm", FetchOptions{HTTPClient: client, Progress: func(done, total int64) { last = [2]int64{done, total} }})
		if err != nil {
			t.Fatal(err)
		}
		if f.ID != "fetch-rs" || f.Digest != digestOf(tool) || f.BundledPolicy != nil {
			t.Errorf("Fetch = %q %s", f.ID, f.Digest)
		}
		if last != [2]int64{int64(len(tool)), int64(len(tool))} {
			t.Errorf("last progress %v, want %d of %d", last, len(tool), len(tool))
		}
	})
	t.Run("redirect-to-https", func(t *testing.T) {
		f, err := Fetch(context.Background(), base+"/to-https.wasm", FetchOptions{HTTPClient: client})
		if err != nil || f.Digest != digestOf(tool) {
			t.Fatalf("Fetch = %v, %v", f, err)
		}
	})
	t.Run("chunked-progress", func(t *testing.T) {
		var calls int
		var total int64
		f, err := Fetch(context.Background(), base+"/chunked/tool.wasm", FetchOptions{HTTPClient: client, Progress: func(done, tot int64) { calls++; total = tot }})
		if err != nil || f.Digest != digestOf(tool) {
			t.Fatalf("Fetch = %v, %v", f, err)
		}
		if calls < 2 || total != -1 {
			t.Errorf("progress called %d times with total %d; want several calls with an unknown total (-1)", calls, total)
		}
	})

	var notFound *NotFoundError
	var tooLarge *TooLargeError
	var notComponent *NotComponentError
	tests := []struct {
		name string
		uri  string
		opts FetchOptions
		as   any
		want string
	}{
		{"not-found", base + "/nothing.wasm", FetchOptions{}, &notFound, "no component at " + base + "/nothing.wasm (HTTP 404"},
		{"server-error", base + "/broken.wasm", FetchOptions{}, nil, "HTTP 500"},
		{"too-big-announced", base + "/releases/fetch-rs.wasm", FetchOptions{MaxBytes: 1024}, &tooLarge, fmt.Sprintf("is %d bytes (%s), over the 1 KiB limit (1024 bytes): raise the download size limit (FetchOptions.MaxBytes)", len(tool), humanBytes(int64(len(tool))))},
		{"too-big-chunked", base + "/chunked/tool.wasm", FetchOptions{MaxBytes: 1024}, &tooLarge, "is larger than the 1 KiB limit (1024 bytes): raise the download size limit"},
		{"html-page", base + "/page.wasm", FetchOptions{}, &notComponent, "looks like an HTML"},
		{"redirect-to-http", base + "/to-http.wasm", FetchOptions{}, nil, "redirects are followed only to https"},
		{"plain-http-remote", "http://example.com/tool.wasm", FetchOptions{}, nil, "plain http is refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.HTTPClient = client
			f, err := Fetch(context.Background(), tt.uri, tt.opts)
			if err == nil {
				t.Fatalf("Fetch = %+v, want an error", f.ID)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %v is not a %T", err, tt.as)
			}
		})
	}
	if _, hit := plainHits.Load("/tool.wasm"); hit {
		t.Error("the redirect to plain http was followed")
	}

	t.Run("plain-http-loopback", func(t *testing.T) {
		f, err := Fetch(context.Background(), plain.URL+"/local.wasm", FetchOptions{})
		if err != nil || f.ID != "local" || f.Digest != digestOf(tool) {
			t.Fatalf("Fetch from loopback http = %v, %v", f, err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// The server never answers: only the fetch's own timeout ends it.
		hung := make(chan struct{})
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hung:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(hung)
		_, err := Fetch(context.Background(), srv.URL+"/slow.wasm", FetchOptions{HTTPClient: srv.Client(), Timeout: 50 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up after 50ms") {
			t.Fatalf("Fetch from a server that never answers = %v, want a timeout naming the limit", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Fetch(ctx, base+"/releases/fetch-rs.wasm", FetchOptions{HTTPClient: client}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Fetch with a cancelled context = %v, want context.Canceled", err)
		}
	})
}
