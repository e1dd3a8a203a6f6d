package wasi_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// countingServer is a test server on 127.0.0.1 that counts its requests
// and remembers the Host header of each.
type countingServer struct {
	*httptest.Server
	hits  atomic.Int32
	mu    sync.Mutex
	hosts []string
}

func newCountingServer(t *testing.T, handler http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.hosts = append(s.hosts, r.Host)
		s.mu.Unlock()
		if handler != nil {
			handler(w, r)
			return
		}
		fmt.Fprint(w, "refused server reached")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) port() uint16 {
	return uint16(s.Listener.Addr().(*net.TCPAddr).Port)
}

// fakeResolver maps test names to addresses and counts the lookups of each.
type fakeResolver struct {
	addrs   map[string][]netip.Addr
	mu      sync.Mutex
	lookups map[string]int
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.lookups[host]++
	r.mu.Unlock()
	if a, ok := r.addrs[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

// fetchRig runs js-fetch calls, each in a fresh instance under a gate for
// one policy.
type fetchRig struct {
	t    *testing.T
	gate *sandbox.Gate
	comp *component.Component
}

// fetch calls export fn of js-fetch with args and returns the guest's
// result (ok text or err text), the call's error, and the call's denials.
func (r *fetchRig) fetch(fn string, args ...any) (res types.VariantValue, callErr error, denials []*access.DeniedError) {
	r.t.Helper()
	call := r.gate.ForCall(fn, sandbox.Client{Name: "test", Transport: "cli"})
	ctx := access.WithChecker(context.Background(), call)
	inst, err := r.comp.Instantiate(ctx, component.InstantiateOptions{})
	if err != nil {
		r.t.Fatalf("instantiate: %v", err)
	}
	defer inst.Close(ctx)
	out, err := inst.Call(ctx, r.comp.Func(fn), args)
	if err != nil {
		return types.VariantValue{}, err, call.Denials()
	}
	return out[0].(types.VariantValue), nil, call.Denials()
}

func TestFetchUnderPolicy(t *testing.T) {
	allowed := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", 8192))
		case "/slow-head":
			<-r.Context().Done() // never answers; the client gives up
		case "/slow-body":
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "start")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			if strings.HasPrefix(r.URL.Path, "/redirect") {
				http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
				return
			}
			fmt.Fprintf(w, "hello from %s", r.URL.Path)
		}
	})
	refused := newCountingServer(t, nil)
	proxy := newCountingServer(t, nil)
	ap, rp := allowed.port(), refused.port()

	loopback := netip.MustParseAddr("127.0.0.1")
	resolver := &fakeResolver{lookups: map[string]int{}, addrs: map[string][]netip.Addr{
		"allowed.test":    {loopback},
		"other.test":      {loopback},
		"rebind.test":     {netip.MustParseAddr("10.1.2.3")},
		"rebind-lo.test":  {loopback},
		"metadata.test":   {netip.MustParseAddr("169.254.169.254")},
		"mapped-lo.test":  {netip.MustParseAddr("::ffff:127.0.0.1")},
		"mapped-ten.test": {netip.MustParseAddr("::ffff:10.0.0.1")},
	}}
	pol, err := policy.Parse(fmt.Appendf(nil, `version: "1.0"
permissions:
  network:
    allow:
      - host: "http://127.0.0.1:%[1]d"
      - host: "http://allowed.test:%[1]d"
      - host: "http://rebind.test:%[1]d"
      - host: "http://rebind-lo.test:%[2]d"
      - host: "http://metadata.test:%[1]d"
      - host: "http://mapped-lo.test:%[2]d"
      - host: "http://mapped-ten.test:%[1]d"
`, ap, rp))
	if err != nil {
		t.Fatal(err)
	}
	host := wasi.New(wasi.Config{
		Resolver: resolver,
		Limits: wasi.Limits{
			MaxResponseBytes:    4096,
			FirstByteTimeout:    300 * time.Millisecond,
			BetweenBytesTimeout: 300 * time.Millisecond,
		},
	})
	rt := newRuntime(t, host)
	rig := &fetchRig{t: t, comp: compile(t, rt, testcomponents.JSFetch),
		gate: sandbox.NewGate(sandbox.GateConfig{Component: "js-fetch", Policy: pol})}

	// HTTP_PROXY is set for every case: a request that honoured it would
	// reach the proxy server instead of its target.
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")

	t.Run("allowed-literal", func(t *testing.T) {
		res, err, _ := rig.fetch("fetch-text", fmt.Sprintf("http://127.0.0.1:%d/ok", ap))
		if err != nil || res.Case != 0 || res.Value != "hello from /ok" {
			t.Fatalf("fetch = %#v, %v; want ok(hello from /ok)", res, err)
		}
	})
	t.Run("allowed-name-not-proxied", func(t *testing.T) {
		res, err, _ := rig.fetch("fetch-text", fmt.Sprintf("http://allowed.test:%d/named", ap))
		if err != nil || res.Case != 0 || res.Value != "hello from /named" {
			t.Fatalf("fetch = %#v, %v; want ok(hello from /named)", res, err)
		}
	})

	// Each refused case: the guest gets an error, the refused server and
	// the proxy see nothing, and (wantDenial) the gate records what was refused.
	refusedCases := []struct {
		name       string
		url        string
		wantDenial string // text the gate's denial names; "" when the refusal is not a policy decision
		noLookup   string // a name that must not have been resolved
	}{
		{"other-port", fmt.Sprintf("http://127.0.0.1:%d/", rp), fmt.Sprintf("127.0.0.1:%d", rp), ""},
		{"other-host", fmt.Sprintf("http://other.test:%d/", ap), "other.test", "other.test"},
		{"other-scheme", fmt.Sprintf("https://127.0.0.1:%d/", ap), "https://127.0.0.1", ""},
		{"ipv6-loopback", fmt.Sprintf("http://[::1]:%d/", rp), "::1", ""},
		{"mapped-loopback-other-port", fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", rp), "127.0.0.1", ""},
		{"rebind-to-private", fmt.Sprintf("http://rebind.test:%d/", ap), "10.1.2.3", ""},
		{"rebind-to-loopback", fmt.Sprintf("http://rebind-lo.test:%d/", rp), "127.0.0.1", ""},
		{"name-to-metadata", fmt.Sprintf("http://metadata.test:%d/", ap), "169.254.169.254", ""},
		{"name-to-mapped-loopback", fmt.Sprintf("http://mapped-lo.test:%d/", rp), "127.0.0.1", ""},
		{"name-to-mapped-private", fmt.Sprintf("http://mapped-ten.test:%d/", ap), "10.0.0.1", ""},
		{"redirect-to-refused", fmt.Sprintf("http://127.0.0.1:%d/redirect?to=http://127.0.0.1:%d/", ap, rp), "", ""},
		{"unresolvable", fmt.Sprintf("http://nowhere.test:%d/", ap), "nowhere.test", "nowhere.test"},
	}
	for _, r := range []struct{ name, ip string }{
		{"unspecified", "0.0.0.0"}, {"this-network", "0.1.2.3"}, {"ipv6-unspecified", "[::]"},
		{"private-10", "10.0.0.1"}, {"private-172", "172.16.0.1"}, {"private-192", "192.168.1.1"},
		{"ula", "[fc00::1]"}, {"cgnat", "100.64.0.1"}, {"link-local", "169.254.1.1"},
		{"metadata", "169.254.169.254"}, {"ipv6-link-local", "[fe80::1]"},
		{"multicast", "224.0.0.1"}, {"ipv6-multicast", "[ff02::1]"}, {"broadcast", "255.255.255.255"},
		{"loopback-other", "127.0.0.2"},
	} {
		refusedCases = append(refusedCases, struct {
			name, url, wantDenial, noLookup string
		}{"literal-" + r.name, fmt.Sprintf("http://%s:%d/", r.ip, ap), "access denied", ""})
		if !strings.HasPrefix(r.ip, "[") {
			refusedCases = append(refusedCases, struct {
				name, url, wantDenial, noLookup string
			}{"mapped-" + r.name, fmt.Sprintf("http://[::ffff:%s]:%d/", r.ip, ap), "access denied", ""})
		}
	}
	for _, tc := range refusedCases {
		t.Run(tc.name, func(t *testing.T) {
			before := allowed.hits.Load()
			res, err, denials := rig.fetch("fetch-text", tc.url)
			if err != nil {
				t.Fatalf("the call trapped: %v", err)
			}
			if res.Case != 1 {
				t.Fatalf("fetch(%s) = %#v, want an error", tc.url, res)
			}
			t.Logf("guest saw: %v", res.Value)
			if n := refused.hits.Load(); n != 0 {
				t.Errorf("the refused server was reached %d times", n)
			}
			if n := proxy.hits.Load(); n != 0 {
				t.Errorf("the proxy was reached %d times", n)
			}
			if tc.wantDenial != "" {
				if len(denials) == 0 || !strings.Contains(denials[0].Error(), tc.wantDenial) {
					t.Errorf("denials = %v, want one naming %q", denials, tc.wantDenial)
				}
				if allowed.hits.Load() != before {
					t.Errorf("the allowed server was reached for a refused request")
				}
			}
			if tc.noLookup != "" && resolver.count(tc.noLookup) != 0 {
				t.Errorf("%s was resolved %d times before being refused", tc.noLookup, resolver.count(tc.noLookup))
			}
		})
	}

	t.Run("forged-host-header-never-sent", func(t *testing.T) {
		allowed.mu.Lock()
		allowed.hosts = nil
		allowed.mu.Unlock()
		res, err, _ := rig.fetch("fetch-with-header", fmt.Sprintf("http://127.0.0.1:%d/forged", ap), "Host", "other.test")
		if err != nil {
			t.Fatalf("the call trapped: %v", err)
		}
		t.Logf("fetch with a forged Host = %#v (fetch() may drop a Host header itself)", res)
		allowed.mu.Lock()
		defer allowed.mu.Unlock()
		want := fmt.Sprintf("127.0.0.1:%d", ap)
		for _, h := range allowed.hosts {
			if h != want {
				t.Errorf("the server saw Host %q, want only %q", h, want)
			}
		}
	})

	t.Run("body-over-limit-ends-call", func(t *testing.T) {
		_, err, _ := rig.fetch("fetch-text", fmt.Sprintf("http://127.0.0.1:%d/big", ap))
		var limit *wasi.LimitError
		if !errors.As(err, &limit) || limit.Setting != "Limits.MaxResponseBytes" {
			t.Fatalf("fetch of 8192 bytes with MaxResponseBytes 4096 = %v, want a *LimitError naming Limits.MaxResponseBytes", err)
		}
		t.Logf("the call ended with: %v", err)
	})
	for _, path := range []string{"/slow-head", "/slow-body"} {
		t.Run("timeout"+strings.ReplaceAll(path, "/", "-"), func(t *testing.T) {
			res, err, denials := rig.fetch("fetch-text", fmt.Sprintf("http://127.0.0.1:%d%s", ap, path))
			if err != nil {
				t.Fatalf("the call trapped: %v", err)
			}
			if res.Case != 1 || len(denials) != 0 {
				t.Fatalf("fetch of a stalled response = %#v (denials %v), want an error that is not a denial", res, denials)
			}
			t.Logf("guest saw: %v", res.Value)
		})
	}
	t.Run("next-call-works", func(t *testing.T) {
		res, err, _ := rig.fetch("fetch-text", fmt.Sprintf("http://127.0.0.1:%d/again", ap))
		if err != nil || res.Value != "hello from /again" {
			t.Fatalf("fetch after the failures = %#v, %v", res, err)
		}
	})
}
