package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/sandbox"
)

var _ Backend = (*sandbox.Host)(nil)

func component(id string, tools ...string) sandbox.ComponentInfo {
	c := sandbox.ComponentInfo{ID: id, Source: "oci://ghcr.io/example/" + id + ":1.0", Size: 2 << 20,
		State: sandbox.StateReady, Enabled: true, Tools: []sandbox.ToolInfo{}}
	for _, t := range tools {
		c.Tools = append(c.Tools, sandbox.ToolInfo{Name: t, Component: id, Description: "Does " + t + " for you."})
	}
	return c
}

const weatherPolicy = `version: "1.0"
permissions:
  network:
    allow:
      - host: api.open-meteo.com
  storage:
    allow:
      - uri: fs:///home/ana/notes/**
        access: [read, write]
    deny:
      - uri: fs:///home/ana/.ssh/**
        access: [read]
  environment:
    allow:
      - key: API_KEY
`

func TestComponentsWindowRenders(t *testing.T) {
	long := strings.Repeat("a-very-long-component-name-", 6)
	failed := component("broken")
	failed.State, failed.Error = sandbox.StateFailed, "compile: unknown import wasi:http/outgoing-handler@0.3.0"
	many := []sandbox.ComponentInfo{failed}
	for i := range 12 {
		many = append(many, component(fmt.Sprintf("tool-%02d", i), "run"))
	}
	tests := []struct {
		name  string
		comps []sandbox.ComponentInfo
	}{
		{"empty", nil},
		{"one", []sandbox.ComponentInfo{component("weather", "get-forecast", "get-alerts")}},
		{"many", many},
		{"long_names", []sandbox.ComponentInfo{component(long, long+"tool"), component("short")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test.NewTempApp(t)
			b := newFakeBackend(tt.comps...)
			b.policies["weather"] = weatherPolicy
			settings := &fakeSettings{env: map[string]map[string]string{"weather": {"API_KEY": "k"}}}
			secrets := &fakeSecrets{vals: map[string]map[string]string{"weather": {"TOKEN": "s3cret"}}}
			w := test.NewWindow(nil)
			defer w.Close()
			v := NewComponentsView(context.Background(), ComponentsDeps{Backend: b, Settings: settings, Secrets: secrets}, w)
			w.SetContent(v.Content())
			w.Resize(fyne.NewSize(900, 600))
			test.AssertRendersToMarkup(t, "components/"+tt.name+".xml", w.Canvas())
			if strings.Contains(test.RenderToMarkup(w.Canvas()), "s3cret") {
				t.Error("a secret's value is on screen")
			}
		})
	}
}

// findButton finds the button labelled text under o.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == text && b.Visible() {
			return b
		}
	}
	return nil
}

func TestComponentsActions(t *testing.T) {
	test.NewTempApp(t)
	b := newFakeBackend(component("weather", "get-forecast"))
	b.policies["weather"] = weatherPolicy
	settings := &fakeSettings{}
	w := test.NewWindow(nil)
	defer w.Close()
	v := NewComponentsView(context.Background(), ComponentsDeps{Backend: b, Settings: settings}, w)
	v.background = func(f func()) { f() }
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(900, 700))

	t.Run("revoke_item_by_item", func(t *testing.T) {
		revoke := findButton(v.detail, "Revoke")
		if revoke == nil {
			t.Fatal("no Revoke button for the first permission")
		}
		test.Tap(revoke)
		if len(b.Calls()) == 0 {
			t.Fatal("Revoke did not reach the Host")
		}
		if got := b.Calls()[0]; got != "revoke weather storage fs:///home/ana/notes/** by app" {
			t.Errorf("Revoke asked the Host for %q", got)
		}
	})
	t.Run("limits", func(t *testing.T) {
		l, err := parseLimits("30", "256")
		if err != nil || l.CallTimeout != 30*time.Second || l.MemoryBytes != 256<<20 {
			t.Fatalf("parseLimits = %+v, %v", l, err)
		}
		for _, bad := range [][2]string{{"0", ""}, {"x", ""}, {"", "-1"}, {"", "1e9"}} {
			if _, err := parseLimits(bad[0], bad[1]); err == nil {
				t.Errorf("parseLimits(%q, %q) accepted", bad[0], bad[1])
			}
		}
		if l, err := parseLimits(" ", ""); err != nil || l != (Limits{}) {
			t.Errorf("empty fields = %+v, %v; want the defaults", l, err)
		}
	})
	t.Run("add_by_uri", func(t *testing.T) {
		v.uri.SetText("oci://ghcr.io/x/y:1")
		test.Tap(findButton(v.content, "Add"))
		if !slices.Contains(b.Calls(), "load oci://ghcr.io/x/y:1") {
			t.Fatalf("the Host was asked %q; want a load of the address", b.Calls())
		}
		if v.Selected() != "loaded" {
			t.Errorf("after adding, %q is shown; want the new component", v.Selected())
		}
		if !strings.HasPrefix(v.status.Text, "Added loaded") {
			t.Errorf("status = %q", v.status.Text)
		}
	})
}
