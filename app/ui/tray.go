package ui

import (
	"fmt"

	"fyne.io/fyne/v2"

	"tapedeck.dev/tapedeck/sandbox"
)

// Status is what the tray's first line tells.
type Status struct {
	Paused     bool
	Components int
	Clients    int // MCP clients connected
	InFlight   int // tool calls running
}

func (s Status) String() string {
	state := "Running"
	if s.Paused {
		state = "Paused"
	}
	return fmt.Sprintf("%s · %s · %s · %s", state,
		plural(s.Components, "component", "components"),
		plural(s.Clients, "client", "clients"),
		plural(s.InFlight, "call in flight", "calls in flight"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Apply updates the status for one Host event; components is the count
// after it (from Backend.List).
func (s Status) Apply(e sandbox.Event) Status {
	switch e.Kind {
	case sandbox.EventClientConnected:
		s.Clients++
	case sandbox.EventClientDisconnected:
		s.Clients = max(s.Clients-1, 0)
	case sandbox.EventCallStarted:
		s.InFlight++
	case sandbox.EventCallFinished:
		s.InFlight = max(s.InFlight-1, 0)
	case sandbox.EventPaused:
		s.Paused = true
	case sandbox.EventResumed:
		s.Paused = false
	}
	return s
}

// TrayActions are what the tray's items do. A nil ShowEditors hides
// "Connect editors…"; a nil SetAutostart hides "Start at login".
type TrayActions struct {
	ShowComponents func()
	ShowEditors    func()
	ShowActivity   func()
	ShowAbout      func()
	// SetPaused pauses (true) or resumes all tool calls.
	SetPaused func(paused bool)
	// SetAutostart turns start at login on or off; it returns the state
	// now in force.
	SetAutostart func(on bool) bool
	// Autostart is whether start at login is on when the menu is made.
	Autostart bool
	Quit      func()
}

// TrayMenu is the tray's menu: a status line, the windows, pause, start at
// login, About and Quit.
type TrayMenu struct {
	menu      *fyne.Menu
	status    *fyne.MenuItem
	pause     *fyne.MenuItem
	autostart *fyne.MenuItem
	paused    bool
}

// NewTrayMenu builds the menu.
func NewTrayMenu(a TrayActions) *TrayMenu {
	t := &TrayMenu{}
	t.status = fyne.NewMenuItem(Status{}.String(), nil)
	t.status.Disabled = true
	t.pause = fyne.NewMenuItem("Pause all tools", func() {
		if a.SetPaused != nil {
			a.SetPaused(!t.paused)
		}
	})
	items := []*fyne.MenuItem{t.status, fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Components…", a.ShowComponents)}
	if a.ShowEditors != nil {
		items = append(items, fyne.NewMenuItem("Connect editors…", a.ShowEditors))
	}
	items = append(items, fyne.NewMenuItem("Activity…", a.ShowActivity), fyne.NewMenuItemSeparator(), t.pause)
	if a.SetAutostart != nil {
		t.autostart = fyne.NewMenuItem("Start at login", nil)
		t.autostart.Checked = a.Autostart
		t.autostart.Action = func() {
			t.autostart.Checked = a.SetAutostart(!t.autostart.Checked)
			t.menu.Refresh()
		}
		items = append(items, t.autostart)
	}
	quit := fyne.NewMenuItem("Quit", a.Quit)
	quit.IsQuit = true
	items = append(items, fyne.NewMenuItem("About Tapedeck", a.ShowAbout), fyne.NewMenuItemSeparator(), quit)
	t.menu = fyne.NewMenu("Tapedeck", items...)
	return t
}

// Menu is the menu to hand to the tray.
func (t *TrayMenu) Menu() *fyne.Menu { return t.menu }

// SetStatus shows s; call it on the UI goroutine.
func (t *TrayMenu) SetStatus(s Status) {
	t.status.Label = s.String()
	t.paused = s.Paused
	t.pause.Label = "Pause all tools"
	if s.Paused {
		t.pause.Label = "Resume tools"
	}
	t.menu.Refresh()
}
