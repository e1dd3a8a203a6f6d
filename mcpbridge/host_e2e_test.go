package mcpbridge

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/internal/wintest"
	"tapedeck.dev/tapedeck/sandbox"
)

// TestRealHostEndToEnd drives the real sandbox.Host through the MCP server
// with the go-sdk client: load a component, see list_changed, call its
// tools, be asked for a permission and answer, revoke it, unload.
// skipStoreUnderWine skips a test that loads a component into a real
// store when it runs under Wine: the store's staging clean-up is
// os.RemoveAll, which deletes with NtSetInformationFile
// (FileDispositionInformationEx), a class Wine 8 does not implement
// (STATUS_NOT_IMPLEMENTED, an error Go does not fall back from).
func skipStoreUnderWine(t *testing.T) {
	t.Helper()
	if v, ok := wintest.Wine(); ok {
		t.Skipf("Wine %s does not implement NtSetInformationFile(FileDispositionInformationEx), which os.RemoveAll in the component store needs", v)
	}
}

func TestRealHostEndToEnd(t *testing.T) {
	skipStoreUnderWine(t)
	ctx := context.Background()
	var asked []sandbox.AccessRequest
	prompter := sandbox.PrompterFunc(func(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
		asked = append(asked, req)
		return sandbox.AllowAlways, nil
	})
	host, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), CacheDir: testcomponents.CacheDir(t), Prompter: prompter})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	srv := New(host, Options{Version: "test"})
	defer srv.Close()
	s := connect(t, srv, "", nil)

	src := componentCopy(t, "c-tool", "calc")
	res := s.call(t, "load-component", map[string]any{"path": src})
	if res.IsError {
		t.Fatalf("load-component: %s", text(t, res))
	}
	var loaded struct {
		Status string   `json:"status"`
		ID     string   `json:"id"`
		Tools  []string `json:"tools"`
	}
	if err := json.Unmarshal([]byte(text(t, res)), &loaded); err != nil || loaded.ID != "calc" || !slices.Contains(loaded.Tools, "add") {
		t.Fatalf("load-component reply %s (%v)", text(t, res), err)
	}
	select {
	case <-s.listChanged:
	case <-time.After(10 * time.Second):
		t.Fatal("no tools/list_changed after a load")
	}
	tools, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Contains(names, "add") || !slices.Contains(names, "load-component") {
		t.Fatalf("tools/list = %v, want the built-ins and the component's tools", names)
	}
	res = s.call(t, "add", map[string]any{"a": 40, "b": 2})
	if res.IsError || text(t, res) != "42" {
		t.Fatalf("add = %+v (%s)", res, text(t, res))
	}
	if sc, _ := json.Marshal(res.StructuredContent); string(sc) != `{"result":42}` {
		t.Fatalf("add structuredContent = %s", sc)
	}

	// The agent asks for a grant: the person is asked, says always.
	res = s.call(t, "grant-network-permission", map[string]any{"component_id": "calc", "details": map[string]any{"host": "api.example.com"}})
	if res.IsError {
		t.Fatalf("grant: %s", text(t, res))
	}
	if len(asked) != 1 || !asked[0].Grant || asked[0].Client.Name != "test-client" {
		t.Fatalf("questions = %+v, want one grant request naming the client", asked)
	}
	pol := s.call(t, "get-policy", map[string]any{"component_id": "calc"})
	if !strings.Contains(text(t, pol), "api.example.com") {
		t.Fatalf("get-policy after grant = %s", text(t, pol))
	}
	res = s.call(t, "revoke-network-permission", map[string]any{"component_id": "calc", "details": map[string]any{"host": "api.example.com"}})
	if res.IsError {
		t.Fatalf("revoke: %s", text(t, res))
	}
	if pol := s.call(t, "get-policy", map[string]any{"component_id": "calc"}); strings.Contains(text(t, pol), "api.example.com") {
		t.Fatalf("get-policy after revoke = %s", text(t, pol))
	}
	res = s.call(t, "unload-component", map[string]any{"id": "calc"})
	if res.IsError {
		t.Fatalf("unload: %s", text(t, res))
	}
	// After unload the tool is gone: an unknown tool is a protocol error.
	if res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 1}}); err == nil {
		t.Fatalf("add after unload ran: %+v", res)
	}
}

// componentCopy copies the test component name to a temporary file
// id.wasm, so that a load names it id.
func componentCopy(t *testing.T, name, id string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), id+".wasm")
	data, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}
