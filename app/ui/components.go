package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// ComponentsView is the Components window's content: the installed
// components on the left, the selected one's tools, permissions, limits,
// variables and secrets on the right, and a bar to add more.
type ComponentsView struct {
	ctx      context.Context
	backend  Backend
	settings ComponentSettings // may be nil
	secrets  Secrets           // may be nil
	parent   fyne.Window
	// background runs slow work off the UI goroutine; tests run it inline.
	background func(func())

	comps    []sandbox.ComponentInfo
	selected string

	list     *widget.List
	detail   *fyne.Container
	progress *widget.ProgressBar
	status   *widget.Label
	uri      *widget.Entry
	content  fyne.CanvasObject
}

// ComponentsDeps are what NewComponentsView works with; Settings and Secrets
// may be nil, which leaves their controls out.
type ComponentsDeps struct {
	Backend  Backend
	Settings ComponentSettings
	Secrets  Secrets
}

// NewComponentsView builds the view for the window parent (where its
// dialogs open). ctx bounds the loads and edits it starts.
func NewComponentsView(ctx context.Context, deps ComponentsDeps, parent fyne.Window) *ComponentsView {
	v := &ComponentsView{ctx: ctx, backend: deps.Backend, settings: deps.Settings, secrets: deps.Secrets, parent: parent,
		background: func(f func()) { go f() }}
	v.list = widget.NewList(
		func() int { return len(v.comps) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("component")
			name.Truncation = fyne.TextTruncateEllipsis
			state := widget.NewLabel("compiling")
			return container.NewBorder(nil, nil, nil, state, name)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container)
			row.Objects[0].(*widget.Label).SetText(v.comps[i].ID)
			row.Objects[1].(*widget.Label).SetText(stateWords(v.comps[i]))
		},
	)
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < len(v.comps) {
			v.selected = v.comps[i].ID
			v.showDetail()
		}
	}
	v.detail = container.NewStack()
	v.progress = widget.NewProgressBar()
	v.progress.Hide()
	v.status = widget.NewLabel("")
	v.status.Truncation = fyne.TextTruncateEllipsis
	v.uri = widget.NewEntry()
	v.uri.SetPlaceHolder("oci://ghcr.io/… or https://…/tool.wasm")
	v.uri.OnSubmitted = func(s string) { v.Add(s) }
	addURI := widget.NewButton("Add", func() { v.Add(v.uri.Text) })
	addFile := widget.NewButton("Add from file…", v.pickFile)
	bar := container.NewBorder(nil, container.NewVBox(v.progress, v.status), addFile, addURI, v.uri)
	split := container.NewHSplit(v.list, container.NewPadded(v.detail))
	split.Offset = 0.3
	v.content = container.NewBorder(bar, nil, nil, nil, split)
	v.Refresh()
	return v
}

// Content is the view's root object.
func (v *ComponentsView) Content() fyne.CanvasObject { return v.content }

// Selected is the id of the component shown on the right ("" for none).
func (v *ComponentsView) Selected() string { return v.selected }

// Refresh re-reads the components. Call it on the UI goroutine (through
// fyne.Do from a Host event).
func (v *ComponentsView) Refresh() {
	v.comps = v.backend.List()
	v.list.Refresh()
	idx := -1
	for i, c := range v.comps {
		if c.ID == v.selected {
			idx = i
		}
	}
	if idx < 0 && len(v.comps) > 0 {
		idx = 0
		v.selected = v.comps[0].ID
	}
	if idx >= 0 {
		v.list.Select(idx) // shows the detail
		v.showDetail()
		return
	}
	v.selected = ""
	v.showDetail()
}

// Add loads the component at uri (a path, file://, https:// or oci://) in
// the background, with progress below the bar. A policy that arrives with
// it is put to the person by the Prompter.
func (v *ComponentsView) Add(uri string) {
	uri = strings.TrimSpace(uri)
	if uri == "" {
		v.status.SetText("Type an oci:// or https:// address, or choose a file.")
		return
	}
	v.progress.SetValue(0)
	v.progress.Show()
	v.status.SetText("Adding " + uri + " …")
	opts := sandbox.LoadOptions{Client: appClient(), Progress: func(done, total int64) {
		fyne.Do(func() {
			if total > 0 {
				v.progress.SetValue(float64(done) / float64(total))
			}
			v.status.SetText(fmt.Sprintf("Adding %s … %s", uri, humanBytes(done)))
		})
	}}
	v.background(func() {
		res, err := v.backend.Load(v.ctx, uri, opts)
		fyne.Do(func() {
			v.progress.Hide()
			if err != nil {
				v.status.SetText("Could not add " + uri + ": " + err.Error())
				return
			}
			v.uri.SetText("")
			msg := "Added " + res.Component.ID
			if res.Reloaded {
				msg = "Replaced " + res.Component.ID
			}
			if len(res.Notes) > 0 {
				msg += ". " + strings.Join(res.Notes, " ")
			}
			v.status.SetText(msg)
			v.selected = res.Component.ID
			v.Refresh()
		})
	})
}

// AddDropped adds each dropped file (the window's SetOnDropped).
func (v *ComponentsView) AddDropped(_ fyne.Position, uris []fyne.URI) {
	for _, u := range uris {
		if u.Scheme() == "file" {
			v.Add(u.Path())
		} else {
			v.Add(u.String())
		}
	}
}

func (v *ComponentsView) pickFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		v.Add(path)
	}, v.parent)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".wasm"}))
	d.Show()
}

func (v *ComponentsView) current() (sandbox.ComponentInfo, bool) {
	for _, c := range v.comps {
		if c.ID == v.selected {
			return c, true
		}
	}
	return sandbox.ComponentInfo{}, false
}

func (v *ComponentsView) showDetail() {
	c, ok := v.current()
	if !ok {
		empty := widget.NewLabel("No components yet. Add one from a file (or drop it here) or from an oci:// or https:// address above.")
		empty.Wrapping = fyne.TextWrapWord
		v.detail.Objects = []fyne.CanvasObject{container.NewVBox(empty)}
		v.detail.Refresh()
		return
	}
	sections := []fyne.CanvasObject{v.header(c), v.toolsSection(c), v.permissionsSection(c)}
	if v.settings != nil {
		sections = append(sections, v.limitsSection(c), v.envSection(c))
	}
	if v.secrets != nil {
		sections = append(sections, v.secretsSection(c))
	}
	v.detail.Objects = []fyne.CanvasObject{container.NewVScroll(container.NewVBox(sections...))}
	v.detail.Refresh()
}

func (v *ComponentsView) header(c sandbox.ComponentInfo) fyne.CanvasObject {
	title := widget.NewLabel(c.ID)
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Truncation = fyne.TextTruncateEllipsis
	summary := fmt.Sprintf("%s · %d tools · %s", stateWords(c), len(c.Tools), humanBytes(c.Size))
	state := widget.NewLabel(summary)
	state.Truncation = fyne.TextTruncateEllipsis
	source := widget.NewLabel("From " + c.Source)
	source.Truncation = fyne.TextTruncateEllipsis
	objs := []fyne.CanvasObject{title, state, source}
	if c.State == sandbox.StateFailed {
		reason := widget.NewLabel("Failed: " + c.Error)
		reason.Wrapping = fyne.TextWrapWord
		reason.Importance = widget.DangerImportance
		objs = append(objs, reason)
	}
	remove := widget.NewButton("Remove", func() { v.confirmRemove(c.ID) })
	remove.Importance = widget.DangerImportance
	actions := container.NewHBox(layout.NewSpacer(), remove)
	if v.settings != nil {
		enabled := widget.NewCheck("Enabled", nil)
		enabled.SetChecked(c.Enabled)
		enabled.OnChanged = func(on bool) {
			v.run("enable "+c.ID, func(ctx context.Context) error { return v.settings.SetEnabled(ctx, c.ID, on) })
		}
		actions.Objects = append([]fyne.CanvasObject{enabled}, actions.Objects...)
	}
	return container.NewVBox(append(objs, actions)...)
}

func (v *ComponentsView) toolsSection(c sandbox.ComponentInfo) fyne.CanvasObject {
	var rows []fyne.CanvasObject
	for _, t := range c.Tools {
		text := t.Name
		if t.Description != "" {
			text += " — " + firstLine(t.Description)
		}
		if t.Unavailable != "" {
			text += " (unavailable: " + t.Unavailable + ")"
		}
		l := widget.NewLabel(text)
		l.Truncation = fyne.TextTruncateEllipsis
		rows = append(rows, l)
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("No tools (yet)."))
	}
	return widget.NewCard("", "Tools", container.NewVBox(rows...))
}

// permissionsSection lists what the policy allows, each with Revoke, and
// what it denies.
func (v *ComponentsView) permissionsSection(c sandbox.ComponentInfo) fyne.CanvasObject {
	perms, err := v.permissions(c.ID)
	if err != nil {
		l := widget.NewLabel("Cannot read the policy: " + err.Error())
		l.Wrapping = fyne.TextWrapWord
		return widget.NewCard("", "Permissions", l)
	}
	var rows []fyne.CanvasObject
	revocable := func(text string, p sandbox.Permission) {
		l := widget.NewLabel(text)
		l.Truncation = fyne.TextTruncateEllipsis
		b := widget.NewButton("Revoke", func() {
			v.run("revoke "+text, func(ctx context.Context) error { return v.backend.Revoke(ctx, c.ID, p, appClient()) })
		})
		rows = append(rows, container.NewBorder(nil, nil, nil, b, l))
	}
	fixed := func(text string) {
		l := widget.NewLabel(text)
		l.Truncation = fyne.TextTruncateEllipsis
		rows = append(rows, l)
	}
	for _, r := range perms.Storage.Allow {
		modes := make([]string, len(r.Access))
		for i, m := range r.Access {
			modes[i] = string(m)
		}
		revocable(fmt.Sprintf("%s %s", strings.Join(modes, "+"), r.URI),
			sandbox.Permission{Kind: sandbox.PermissionStorage, URI: r.URI, Access: modes})
	}
	for _, r := range perms.Network.Allow {
		host := r.Host
		if host == "" {
			host = r.CIDR
		}
		revocable("connect to "+host, sandbox.Permission{Kind: sandbox.PermissionNetwork, Host: host})
	}
	for _, r := range perms.Environment.Allow {
		revocable("variable "+r.Key, sandbox.Permission{Kind: sandbox.PermissionEnvironment, Key: r.Key})
	}
	for _, r := range perms.Storage.Deny {
		fixed("never: " + r.URI)
	}
	for _, r := range perms.Network.Deny {
		fixed("never connect to " + r.Host + r.CIDR)
	}
	for _, r := range perms.Environment.Deny {
		fixed("never variable " + r.Key)
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("None: it is asked about everything it reaches for."))
	} else {
		reset := widget.NewButton("Reset all permissions", func() {
			dialog.ShowConfirm("Reset permissions", "Remove every permission of "+c.ID+"? It will ask again.", func(ok bool) {
				if ok {
					v.run("reset "+c.ID, func(ctx context.Context) error { return v.backend.Reset(ctx, c.ID, appClient()) })
				}
			}, v.parent)
		})
		rows = append(rows, container.NewHBox(layout.NewSpacer(), reset))
	}
	return widget.NewCard("", "Permissions", container.NewVBox(rows...))
}

func (v *ComponentsView) permissions(id string) (policy.Permissions, error) {
	info, err := v.backend.Policy(id)
	if err != nil {
		return policy.Permissions{}, err
	}
	if strings.TrimSpace(info.YAML) == "" {
		return policy.Permissions{}, nil
	}
	pol, err := policy.Parse([]byte(info.YAML))
	if err != nil {
		return policy.Permissions{}, fmt.Errorf("%s: %w", info.Path, err)
	}
	return pol.Permissions(), nil
}

func (v *ComponentsView) limitsSection(c sandbox.ComponentInfo) fyne.CanvasObject {
	limits, _, err := v.settings.Settings(c.ID)
	if err != nil {
		return widget.NewCard("", "Limits", widget.NewLabel("Cannot read the settings: "+err.Error()))
	}
	timeout := widget.NewEntry()
	timeout.SetPlaceHolder(fmt.Sprintf("default (%d)", int(sandbox.DefaultCallTimeout/time.Second)))
	if limits.CallTimeout > 0 {
		timeout.SetText(strconv.Itoa(int(limits.CallTimeout / time.Second)))
	}
	memory := widget.NewEntry()
	memory.SetPlaceHolder("default")
	if limits.MemoryBytes > 0 {
		memory.SetText(strconv.FormatInt(limits.MemoryBytes>>20, 10))
	}
	save := widget.NewButton("Save limits", func() {
		l, err := parseLimits(timeout.Text, memory.Text)
		if err != nil {
			v.status.SetText(err.Error())
			return
		}
		v.run("set limits of "+c.ID, func(ctx context.Context) error { return v.settings.SetLimits(ctx, c.ID, l) })
	})
	form := widget.NewForm(widget.NewFormItem("Call timeout (s)", timeout), widget.NewFormItem("Memory (MiB)", memory))
	return widget.NewCard("", "Limits", container.NewVBox(form, container.NewHBox(layout.NewSpacer(), save)))
}

// parseLimits reads the limits form: whole seconds and MiB, empty for the default.
func parseLimits(timeoutSecs, memoryMiB string) (Limits, error) {
	var l Limits
	if s := strings.TrimSpace(timeoutSecs); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 24*3600 {
			return l, fmt.Errorf("the call timeout must be a whole number of seconds between 1 and 86400, not %q", s)
		}
		l.CallTimeout = time.Duration(n) * time.Second
	}
	if s := strings.TrimSpace(memoryMiB); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n > 64<<10 {
			return l, fmt.Errorf("the memory limit must be a whole number of MiB between 1 and 65536, not %q", s)
		}
		l.MemoryBytes = n << 20
	}
	return l, nil
}

// envSection sets values for the variables the policy allows.
func (v *ComponentsView) envSection(c sandbox.ComponentInfo) fyne.CanvasObject {
	perms, err := v.permissions(c.ID)
	if err != nil || len(perms.Environment.Allow) == 0 {
		return widget.NewCard("", "Variables", widget.NewLabel("The policy allows no variables."))
	}
	_, values, err := v.settings.Settings(c.ID)
	if err != nil {
		return widget.NewCard("", "Variables", widget.NewLabel("Cannot read the settings: "+err.Error()))
	}
	form := widget.NewForm()
	for _, r := range perms.Environment.Allow {
		key := r.Key
		e := widget.NewEntry()
		e.SetPlaceHolder("Tapedeck's own value, if any")
		e.SetText(values[key])
		e.OnSubmitted = func(val string) {
			v.run("set "+key, func(ctx context.Context) error { return v.settings.SetEnv(ctx, c.ID, key, val) })
		}
		form.Append(key, e)
	}
	hint := widget.NewLabel("Press Enter in a field to save it.")
	return widget.NewCard("", "Variables", container.NewVBox(form, hint))
}

// secretsSection lists the secrets' names with their values masked.
func (v *ComponentsView) secretsSection(c sandbox.ComponentInfo) fyne.CanvasObject {
	keys, err := v.secrets.List(c.ID)
	if err != nil {
		return widget.NewCard("", "Secrets", widget.NewLabel("Cannot read the keychain: "+err.Error()))
	}
	var rows []fyne.CanvasObject
	for _, k := range keys {
		key := k
		name := widget.NewLabel(key + " = ••••••••")
		name.Truncation = fyne.TextTruncateEllipsis
		del := widget.NewButton("Delete", func() {
			v.run("delete secret "+key, func(context.Context) error { return v.secrets.Delete(c.ID, key) })
		})
		rows = append(rows, container.NewBorder(nil, nil, nil, del, name))
	}
	newKey := widget.NewEntry()
	newKey.SetPlaceHolder("NAME")
	newValue := widget.NewPasswordEntry()
	newValue.SetPlaceHolder("value (kept in the keychain)")
	set := widget.NewButton("Set", func() {
		key := strings.TrimSpace(newKey.Text)
		if key == "" {
			v.status.SetText("A secret needs a name.")
			return
		}
		val := newValue.Text
		v.run("set secret "+key, func(context.Context) error { return v.secrets.Set(c.ID, key, val) })
	})
	rows = append(rows, container.NewBorder(nil, nil, nil, set, container.NewGridWithColumns(2, newKey, newValue)))
	return widget.NewCard("", "Secrets", container.NewVBox(rows...))
}

func (v *ComponentsView) confirmRemove(id string) {
	dialog.ShowConfirm("Remove "+id, "Remove "+id+", its policy and its secrets?", func(ok bool) {
		if ok {
			v.run("remove "+id, func(ctx context.Context) error { return v.backend.Unload(ctx, id, appClient()) })
		}
	}, v.parent)
}

// run does an edit off the UI goroutine, then reports and refreshes.
func (v *ComponentsView) run(what string, do func(ctx context.Context) error) {
	v.background(func() {
		err := do(v.ctx)
		fyne.Do(func() {
			if err != nil {
				v.status.SetText("Could not " + what + ": " + err.Error())
			} else {
				v.status.SetText("Done: " + what + ".")
			}
			v.Refresh()
		})
	})
}

func stateWords(c sandbox.ComponentInfo) string {
	switch c.State {
	case sandbox.StateCompiling:
		return "compiling…"
	case sandbox.StateReady:
		return "ready"
	case sandbox.StateFailed:
		return "failed"
	case sandbox.StateDisabled:
		return "disabled"
	}
	return string(c.State)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
