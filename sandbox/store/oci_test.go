package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

// tamperBlobs is the registry's blob storage, with a way to change a stored
// blob behind the registry's back (a compromised mirror, a flipped bit).
type tamperBlobs struct {
	mu       sync.Mutex
	blobs    map[string][]byte
	tampered map[string]bool
}

func (b *tamperBlobs) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.blobs[h.String()]
	if !ok {
		return nil, errors.New("not found")
	}
	if b.tampered[h.String()] {
		data = bytes.Clone(data)
		data[len(data)-1] ^= 0xff // same size, other content
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (b *tamperBlobs) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.blobs[h.String()]
	if !ok {
		return 0, errors.New("not found")
	}
	return int64(len(data)), nil
}

func (b *tamperBlobs) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc) // the registry verifies size and digest as this reads
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blobs[h.String()] = data
	return nil
}

func (b *tamperBlobs) tamper(digest string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tampered[digest] = true
}

// testRegistry is go-containerregistry's registry behind the checks a real
// one makes: basic auth, or bearer tokens from a token service.
type testRegistry struct {
	inner    http.Handler
	blobs    *tamperBlobs
	user     string
	pass     string
	bearer   bool // challenge with Bearer (token service at /token) rather than Basic
	host     string
	mu       sync.Mutex
	blobGets int
	// alterManifests serves every manifest with an extra byte, keeping
	// the digest header the registry computed.
	alterManifests bool
}

const testToken = "token-for-pull"

func (r *testRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/token" {
		if u, p, _ := req.BasicAuth(); r.user != "" && (u != r.user || p != r.pass) {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		if !strings.Contains(req.URL.Query().Get("scope"), ":pull") {
			http.Error(w, "no scope", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": testToken})
		return
	}
	switch {
	case r.bearer && req.Header.Get("Authorization") != "Bearer "+testToken:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="https://%s/token",service="test-registry"`, r.host))
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		return
	case !r.bearer && r.user != "":
		if u, p, ok := req.BasicAuth(); !ok || u != r.user || p != r.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test-registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
	}
	if strings.Contains(req.URL.Path, "/blobs/") {
		r.mu.Lock()
		r.blobGets++
		r.mu.Unlock()
	}
	r.mu.Lock()
	alter := r.alterManifests
	r.mu.Unlock()
	if alter && strings.Contains(req.URL.Path, "/manifests/") {
		rec := httptest.NewRecorder()
		r.inner.ServeHTTP(rec, req)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := append(rec.Body.Bytes(), ' ')
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
		return
	}
	r.inner.ServeHTTP(w, req)
}

func (r *testRegistry) blobRequests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGets
}

// push stores data as a blob of repo, straight into the registry.
func (r *testRegistry) push(t *testing.T, repo string, data []byte) string {
	t.Helper()
	digest := digestOf(data)
	req := httptest.NewRequest(http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+digest, bytes.NewReader(data))
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("push blob: HTTP %d %s", rec.Code, rec.Body)
	}
	return digest
}

// pushManifest stores a manifest (or index) under ref, returning its digest.
func (r *testRegistry) pushManifest(t *testing.T, repo, ref, mediaType string, m any) string {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPut, "/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	req.Header.Set("Content-Type", mediaType)
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("push manifest: HTTP %d %s", rec.Code, rec.Body)
	}
	return digestOf(body)
}

// artifact is what pushArtifact pushed.
type artifact struct {
	wasm, policy, config []byte
	wasmDigest           string
	policyDigest         string
	manifestDigest       string
}

// pushArtifact pushes a Wasm component artifact the way wkg and Wassette's
// publishing do: a wasm config, a wasm layer and a policy layer.
func (r *testRegistry) pushArtifact(t *testing.T, repo, tag string, wasm []byte) artifact {
	t.Helper()
	a := artifact{wasm: wasm, policy: policyYAML("bundled"), config: []byte(`{"architecture":"wasm","os":"wasip2","layerDigests":[]}`)}
	a.wasmDigest = r.push(t, repo, a.wasm)
	a.policyDigest = r.push(t, repo, a.policy)
	configDigest := r.push(t, repo, a.config)
	a.manifestDigest = r.pushManifest(t, repo, tag, ociManifestType, manifest{
		SchemaVersion: 2,
		MediaType:     ociManifestType,
		ArtifactType:  "application/vnd.wasm.component.v1+wasm",
		Config:        descriptor{MediaType: wasmConfigType, Digest: configDigest, Size: int64(len(a.config))},
		Layers: []descriptor{
			{MediaType: "application/wasm", Digest: a.wasmDigest, Size: int64(len(a.wasm))},
			{MediaType: "application/vnd.wasm.policy.v1+yaml", Digest: a.policyDigest, Size: int64(len(a.policy))},
		},
	})
	return a
}

// startRegistry runs a registry over TLS on 127.0.0.1.
func startRegistry(t *testing.T, user, pass string, bearer bool) (*testRegistry, string, *http.Client) {
	t.Helper()
	blobs := &tamperBlobs{blobs: map[string][]byte{}, tampered: map[string]bool{}}
	r := &testRegistry{inner: registry.New(registry.WithBlobHandler(blobs)), blobs: blobs, user: user, pass: pass, bearer: bearer}
	srv := httptest.NewTLSServer(r)
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "https://")
	return r, r.host, srv.Client()
}

// writeDockerConfig writes a Docker config holding auths for host.
func writeDockerConfig(t *testing.T, host, user, pass string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := map[string]any{"auths": map[string]any{
		"https://index.docker.io/v1/": map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("hub:secret"))},
		host:                          map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))},
	}}
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFetchOCI(t *testing.T) {
	t.Parallel()
	tool := component(t, testcomponents.CTool)
	for _, bearer := range []bool{false, true} {
		t.Run(fmt.Sprintf("bearer=%t", bearer), func(t *testing.T) {
			reg, host, client := startRegistry(t, "me", "s3cret", bearer)
			a := reg.pushArtifact(t, "tools/weather", "1.0", tool)
			creds := writeDockerConfig(t, host, "me", "s3cret")
			opts := FetchOptions{HTTPClient: client, DockerConfig: creds}

			for name, uri := range map[string]string{
				"by-tag":    "oci://" + host + "/tools/weather:1.0",
				"by-digest": "oci://" + host + "/tools/weather@" + a.manifestDigest,
			} {
				t.Run(name, func(t *testing.T) {
					var last [2]int64
					o := opts
					o.Progress = func(done, total int64) { last = [2]int64{done, total} }
					f, err := Fetch(context.Background(), uri, o)
					if err != nil {
						t.Fatal(err)
					}
					if f.ID != "tools_weather" || f.Source != uri || f.Digest != digestOf(tool) || !bytes.Equal(f.Bytes, tool) {
						t.Errorf("Fetch = id %q source %q digest %s", f.ID, f.Source, f.Digest)
					}
					if f.ManifestDigest != a.manifestDigest || !bytes.Equal(f.Config, a.config) {
						t.Errorf("manifest %s (want %s), config %q", f.ManifestDigest, a.manifestDigest, f.Config)
					}
					if !bytes.Equal(f.BundledPolicy, a.policy) || !strings.Contains(f.BundledPolicySource, a.policyDigest) {
						t.Errorf("bundled policy %q from %q, want the policy layer %s", f.BundledPolicy, f.BundledPolicySource, a.policyDigest)
					}
					if last != [2]int64{int64(len(tool)), int64(len(tool))} {
						t.Errorf("last progress %v, want %d of %d", last, len(tool), len(tool))
					}
				})
			}
		})
	}
}

func TestFetchOCIRefused(t *testing.T) {
	t.Parallel()
	tool := component(t, testcomponents.CTool)
	reg, host, client := startRegistry(t, "me", "s3cret", false)
	a := reg.pushArtifact(t, "tools/weather", "1.0", tool)
	reg.pushArtifact(t, "tools/evil", "1.0", component(t, testcomponents.CEnv))
	evil := reg.pushArtifact(t, "tools/evilpolicy", "1.0", component(t, testcomponents.CFiles))
	reg.blobs.tamper(digestOf(component(t, testcomponents.CEnv)))
	reg.blobs.tamper(evil.policyDigest)
	reg.pushManifest(t, "tools/image", "1.0", ociManifestType, manifest{
		SchemaVersion: 2, MediaType: ociManifestType,
		Config: descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: reg.push(t, "tools/image", []byte("{}")), Size: 2},
		Layers: []descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: a.wasmDigest, Size: int64(len(tool))}},
	})
	reg.pushManifest(t, "tools/liar", "1.0", ociManifestType, manifest{
		SchemaVersion: 2, MediaType: ociManifestType,
		Layers: []descriptor{{MediaType: "application/wasm", Digest: a.wasmDigest, Size: int64(len(tool)) - 1}},
	})
	good := writeDockerConfig(t, host, "me", "s3cret")
	wrong := writeDockerConfig(t, host, "me", "guess")
	none := filepath.Join(t.TempDir(), "absent.json")
	helper := filepath.Join(t.TempDir(), "helper.json")
	if err := os.WriteFile(helper, []byte(`{"credsStore":"desktop"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	var notFound *NotFoundError
	var mismatch *DigestMismatchError
	var tooLarge *TooLargeError
	tests := []struct {
		name   string
		uri    string
		config string
		max    int64
		as     any
		want   string
	}{
		{"tampered-wasm-layer", "oci://" + host + "/tools/evil:1.0", good, 0, &mismatch, "layer 0 (application/wasm) of oci://" + host + "/tools/evil:1.0 was tampered with or corrupted in transit: expected sha256:"},
		{"tampered-policy-layer", "oci://" + host + "/tools/evilpolicy:1.0", good, 0, &mismatch, "policy layer 1 (application/vnd.wasm.policy.v1+yaml)"},
		{"size-lies", "oci://" + host + "/tools/liar:1.0", good, 0, nil, "tampered with or corrupted in transit: the manifest says"},
		{"unknown-tag", "oci://" + host + "/tools/weather:9.9", good, 0, &notFound, "no component at oci://" + host + "/tools/weather:9.9"},
		{"unknown-repository", "oci://" + host + "/tools/nothing:1.0", good, 0, &notFound, "no component at"},
		{"no-credentials", "oci://" + host + "/tools/weather:1.0", none, 0, nil, "run `docker login " + host + "`"},
		{"credential-helper", "oci://" + host + "/tools/weather:1.0", helper, 0, nil, "kept by the Docker credential helper \"docker-credential-desktop\""},
		{"wrong-credentials", "oci://" + host + "/tools/weather:1.0", wrong, 0, nil, "refused the credentials"},
		{"container-image", "oci://" + host + "/tools/image:1.0", good, 0, nil, "no WebAssembly layer"},
		{"too-big", "oci://" + host + "/tools/weather:1.0", good, 1000, &tooLarge, fmt.Sprintf("is %d bytes (%s), over the 1000 B limit (1000 bytes)", len(tool), humanBytes(int64(len(tool))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Fetch(context.Background(), tt.uri, FetchOptions{HTTPClient: client, DockerConfig: tt.config, MaxBytes: tt.max})
			if err == nil {
				t.Fatalf("Fetch = %s, want an error", f.Digest)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %v is not a %T", err, tt.as)
			}
		})
	}

	t.Run("size-checked-before-download", func(t *testing.T) {
		before := reg.blobRequests()
		_, err := Fetch(context.Background(), "oci://"+host+"/tools/weather:1.0", FetchOptions{HTTPClient: client, DockerConfig: good, MaxBytes: 1000})
		if !errors.As(err, &tooLarge) {
			t.Fatalf("Fetch = %v, want a TooLargeError", err)
		}
		if n := reg.blobRequests() - before; n != 0 {
			t.Errorf("%d blobs were requested for a component over the limit", n)
		}
	})
}

func TestFetchOCIManifestTampered(t *testing.T) {
	t.Parallel()
	reg, host, client := startRegistry(t, "", "", false)
	a := reg.pushArtifact(t, "tools/weather", "1.0", component(t, testcomponents.CTool))
	reg.mu.Lock()
	reg.alterManifests = true
	reg.mu.Unlock()
	var mismatch *DigestMismatchError
	for name, uri := range map[string]string{
		"pinned": "oci://" + host + "/tools/weather@" + a.manifestDigest,
		"tag":    "oci://" + host + "/tools/weather:1.0", // against the registry's Docker-Content-Digest
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Fetch(context.Background(), uri, FetchOptions{HTTPClient: client})
			if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "the manifest of") || mismatch.Expected != a.manifestDigest {
				t.Fatalf("Fetch of an altered manifest = %v, want a digest mismatch naming the manifest and expecting %s", err, a.manifestDigest)
			}
		})
	}
}

func TestFetchOCIIndexAndPlainHTTP(t *testing.T) {
	t.Parallel()
	tool := component(t, testcomponents.CTool)
	blobs := &tamperBlobs{blobs: map[string][]byte{}, tampered: map[string]bool{}}
	reg := &testRegistry{inner: registry.New(registry.WithBlobHandler(blobs)), blobs: blobs}
	// A registry on this machine that speaks plain HTTP, as local
	// development registries do.
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	a := reg.pushArtifact(t, "weather", "manifest", tool)
	reg.pushManifest(t, "weather", "multi", ociIndexType, manifest{
		SchemaVersion: 2, MediaType: ociIndexType,
		Manifests: []descriptor{
			{MediaType: ociManifestType, Digest: a.manifestDigest, Size: 1, Platform: &platform{OS: "linux", Architecture: "amd64"}},
			{MediaType: ociManifestType, Digest: a.manifestDigest, Size: 1, Platform: &platform{OS: "wasip2", Architecture: "wasm"}},
		},
	})
	f, err := Fetch(context.Background(), "oci://"+host+"/weather:multi", FetchOptions{DockerConfig: filepath.Join(t.TempDir(), "none.json")})
	if err != nil {
		t.Fatal(err)
	}
	if f.Digest != digestOf(tool) || f.ManifestDigest != a.manifestDigest || f.ID != "weather" {
		t.Errorf("Fetch through an index = %s from manifest %s, want %s from %s", f.Digest, f.ManifestDigest, digestOf(tool), a.manifestDigest)
	}
}
