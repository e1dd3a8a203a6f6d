package ui

import (
	"testing"

	"fyne.io/fyne/v2"

	"tapedeck.dev/tapedeck/sandbox"
)

func TestStatusFollowsEvents(t *testing.T) {
	events := []sandbox.EventKind{
		sandbox.EventClientConnected, sandbox.EventClientConnected, sandbox.EventCallStarted,
		sandbox.EventCallStarted, sandbox.EventCallFinished, sandbox.EventClientDisconnected, sandbox.EventPaused,
	}
	s := Status{Components: 3}
	for _, k := range events {
		s = s.Apply(sandbox.Event{Kind: k})
	}
	want := Status{Paused: true, Components: 3, Clients: 1, InFlight: 1}
	if s != want {
		t.Fatalf("status = %+v; want %+v", s, want)
	}
	if got := s.String(); got != "Paused · 3 components · 1 client · 1 call in flight" {
		t.Errorf("status line = %q", got)
	}
	t.Run("never_negative", func(t *testing.T) {
		s := Status{}.Apply(sandbox.Event{Kind: sandbox.EventClientDisconnected}).Apply(sandbox.Event{Kind: sandbox.EventCallFinished})
		if s.Clients != 0 || s.InFlight != 0 {
			t.Errorf("status = %+v after unmatched ends (a subscriber that joined late)", s)
		}
	})
}

func labels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.IsSeparator {
			out = append(out, "---")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

func TestTrayMenu(t *testing.T) {
	noop := func() {}
	t.Run("items", func(t *testing.T) {
		tests := []struct {
			name    string
			actions TrayActions
			want    []string
		}{
			{"without_editor_window", TrayActions{ShowComponents: noop, ShowActivity: noop, Quit: noop},
				[]string{"Running · 0 components · 0 clients · 0 calls in flight", "---", "Components…", "Activity…", "---", "Pause all tools", "About Tapedeck", "---", "Quit"}},
			{"with_editors_and_autostart", TrayActions{ShowComponents: noop, ShowEditors: noop, ShowActivity: noop, SetAutostart: func(bool) bool { return true }, Quit: noop},
				[]string{"Running · 0 components · 0 clients · 0 calls in flight", "---", "Components…", "Connect editors…", "Activity…", "---", "Pause all tools", "Start at login", "About Tapedeck", "---", "Quit"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := labels(NewTrayMenu(tt.actions).Menu())
				if len(got) != len(tt.want) {
					t.Fatalf("menu = %q\nwant %q", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("item %d = %q; want %q", i, got[i], tt.want[i])
					}
				}
			})
		}
	})
	t.Run("pause_resume_and_autostart", func(t *testing.T) {
		var paused []bool
		autostart := false
		m := NewTrayMenu(TrayActions{SetPaused: func(p bool) { paused = append(paused, p) },
			SetAutostart: func(on bool) bool { autostart = on; return on }})
		item := func(label string) *fyne.MenuItem {
			for _, it := range m.Menu().Items {
				if it.Label == label {
					return it
				}
			}
			t.Fatalf("no %q item in %q", label, labels(m.Menu()))
			return nil
		}
		item("Pause all tools").Action()
		m.SetStatus(Status{Paused: true, Components: 1})
		item("Resume tools").Action()
		if len(paused) != 2 || !paused[0] || paused[1] {
			t.Errorf("SetPaused calls = %v; want [true false]", paused)
		}
		if got := m.Menu().Items[0].Label; got != "Paused · 1 component · 0 clients · 0 calls in flight" {
			t.Errorf("status line = %q", got)
		}
		start := item("Start at login")
		start.Action()
		if !autostart || !start.Checked {
			t.Errorf("after one click: autostart %v, checked %v; want both on", autostart, start.Checked)
		}
		start.Action()
		if autostart || start.Checked {
			t.Errorf("after two clicks: autostart %v, checked %v; want both off", autostart, start.Checked)
		}
		if quit := m.Menu().Items[len(m.Menu().Items)-1]; !quit.IsQuit {
			t.Error("the last item is not marked IsQuit; Fyne would add a second Quit")
		}
	})
}
