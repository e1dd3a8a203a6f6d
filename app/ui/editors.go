package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/mcpbridge/clients"
)

// Editors is what the Connect editors window needs; *clients.Manager
// satisfies it.
type Editors interface {
	StatusAll() []clients.Status
	Connect(name string, dryRun bool) (clients.Result, error)
	Disconnect(name string, dryRun bool) (clients.Result, error)
}

// EditorsView is the Connect editors window's content: a switch per
// editor that adds or removes Tapedeck from its MCP config, and what to do
// next (restart it) once changed.
type EditorsView struct {
	editors Editors
	// background runs config edits off the UI goroutine; tests run them inline.
	background func(func())

	rows    *fyne.Container
	note    *widget.Label
	content fyne.CanvasObject
}

// NewEditorsView builds the view and reads every editor's state.
func NewEditorsView(e Editors) *EditorsView {
	v := &EditorsView{editors: e, background: func(f func()) { go f() }}
	v.rows = container.NewVBox()
	v.note = widget.NewLabel("")
	v.note.Wrapping = fyne.TextWrapWord
	intro := widget.NewLabel("Turn an editor on to add Tapedeck to its MCP servers; off removes it. Tapedeck changes only its own entry.")
	intro.Wrapping = fyne.TextWrapWord
	v.content = container.NewBorder(intro, v.note, nil, nil, container.NewVScroll(v.rows))
	v.Refresh()
	return v
}

// Content is the view's root object.
func (v *EditorsView) Content() fyne.CanvasObject { return v.content }

// Refresh re-reads the editors' configs; call it on the UI goroutine.
func (v *EditorsView) Refresh() {
	v.rows.Objects = nil
	for _, s := range v.editors.StatusAll() {
		v.rows.Add(v.row(s))
	}
	v.rows.Refresh()
}

func (v *EditorsView) row(s clients.Status) fyne.CanvasObject {
	name := s.DisplayName
	if name == "" {
		name = s.Name
	}
	toggle := widget.NewCheck(name, nil)
	toggle.SetChecked(s.Connected)
	state := widget.NewLabel(editorState(s))
	state.Truncation = fyne.TextTruncateEllipsis
	if !s.Installed || s.Conflict || s.Error != "" {
		toggle.Disable()
	}
	toggle.OnChanged = func(on bool) { v.set(s, on) }
	return container.NewBorder(nil, nil, toggle, nil, state)
}

func (v *EditorsView) set(s clients.Status, on bool) {
	change, verb := v.editors.Disconnect, "Removed Tapedeck from"
	if on {
		change, verb = v.editors.Connect, "Added Tapedeck to"
	}
	v.background(func() {
		res, err := change(s.Name, false)
		fyne.Do(func() {
			switch {
			case err != nil:
				v.note.SetText(fmt.Sprintf("Could not change %s: %v", s.DisplayName, err))
			case len(res.Changes) == 0:
				v.note.SetText(fmt.Sprintf("%s was already as asked; nothing changed.", s.DisplayName))
			default:
				paths := make([]string, len(res.Changes))
				for i, c := range res.Changes {
					paths[i] = c.Path
				}
				msg := fmt.Sprintf("%s %s (%s).", verb, s.DisplayName, strings.Join(paths, ", "))
				if res.NeedsRestart {
					msg += fmt.Sprintf(" Restart %s to pick this up.", s.DisplayName)
				}
				v.note.SetText(msg)
			}
			v.Refresh()
		})
	})
}

func editorState(s clients.Status) string {
	switch {
	case s.Error != "":
		return "cannot read its config: " + s.Error
	case !s.Installed:
		return "not installed"
	case s.Conflict:
		return "its config has another server named \"tapedeck\"; edit " + s.ConfigPath + " by hand"
	case s.Connected && !s.UpToDate:
		return "connected, but to another tapedeck binary: turn off and on to update · " + s.ConfigPath
	case s.Connected:
		return "connected · " + s.ConfigPath
	}
	return "not connected · " + s.ConfigPath
}
