package ui

import (
	"fmt"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/mcpbridge/clients"
)

var _ Editors = (*clients.Manager)(nil)

type fakeEditors struct {
	mu       sync.Mutex
	statuses []clients.Status
	calls    []string
}

func (f *fakeEditors) StatusAll() []clients.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]clients.Status(nil), f.statuses...)
}

func (f *fakeEditors) change(name string, on bool) (clients.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %v", name, on))
	for i := range f.statuses {
		if f.statuses[i].Name == name {
			f.statuses[i].Connected = on
			return clients.Result{Client: name, NeedsRestart: f.statuses[i].NeedsRestart,
				Changes: []clients.Change{{Path: f.statuses[i].ConfigPath}}}, nil
		}
	}
	return clients.Result{}, fmt.Errorf("no client %q", name)
}

func (f *fakeEditors) Connect(name string, _ bool) (clients.Result, error) {
	return f.change(name, true)
}

func (f *fakeEditors) Disconnect(name string, _ bool) (clients.Result, error) {
	return f.change(name, false)
}

func editorStatuses() []clients.Status {
	return []clients.Status{
		{Name: "claude-desktop", DisplayName: "Claude Desktop", Installed: true, ConfigPath: "/home/ana/.config/Claude/claude_desktop_config.json", NeedsRestart: true},
		{Name: "cursor", DisplayName: "Cursor", Installed: true, Connected: true, UpToDate: true, ConfigPath: "/home/ana/.cursor/mcp.json"},
		{Name: "vscode", DisplayName: "VS Code", Installed: true, Connected: true, ConfigPath: "/home/ana/.config/Code/User/mcp.json"},
		{Name: "zed", DisplayName: "Zed", Installed: true, Conflict: true, ConfigPath: "/home/ana/.config/zed/settings.json"},
		{Name: "windsurf", DisplayName: "Windsurf"},
	}
}

func TestEditorsWindowRenders(t *testing.T) {
	test.NewTempApp(t)
	v := NewEditorsView(&fakeEditors{statuses: editorStatuses()})
	w := test.NewWindow(v.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(700, 400))
	test.AssertRendersToMarkup(t, "editors/statuses.xml", w.Canvas())
}

func TestEditorsSwitch(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeEditors{statuses: editorStatuses()}
	v := NewEditorsView(f)
	v.background = func(fn func()) { fn() }
	w := test.NewWindow(v.Content())
	defer w.Close()
	check := func(i int) *widget.Check {
		return v.rows.Objects[i].(*fyne.Container).Objects[1].(*widget.Check)
	}
	test.Tap(check(0))
	if len(f.calls) != 1 || f.calls[0] != "claude-desktop true" {
		t.Fatalf("calls = %q; want claude-desktop connected", f.calls)
	}
	if want := "Added Tapedeck to Claude Desktop (/home/ana/.config/Claude/claude_desktop_config.json). Restart Claude Desktop to pick this up."; v.note.Text != want {
		t.Errorf("note = %q\nwant %q", v.note.Text, want)
	}
	if !check(0).Checked {
		t.Error("the switch does not show the new state")
	}
	test.Tap(check(1))
	if f.calls[1] != "cursor false" {
		t.Errorf("calls = %q; want cursor disconnected", f.calls)
	}
	for _, i := range []int{3, 4} {
		if !check(i).Disabled() {
			t.Errorf("row %d (conflict or not installed) can be switched", i)
		}
	}
}
