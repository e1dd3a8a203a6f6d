package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

// DefaultActivityRows bounds the Activity window's list.
const DefaultActivityRows = 1000

// ActivityView is the Activity window's content: calls, questions and
// their answers, denials and loads, newest first, filterable and
// exportable as JSON lines. It keeps at most its bound of entries.
type ActivityView struct {
	max     int
	entries []activity.Entry // oldest first, at most max
	shown   []activity.Entry // newest first, after the filter
	filter  string
	parent  fyne.Window
	zone    *time.Location // times are shown in it

	list        *widget.List
	filterEntry *widget.Entry
	count       *widget.Label
	content     fyne.CanvasObject
}

// NewActivityView starts with history (oldest first, e.g. from
// activity.Read) and keeps at most maxRows entries (0 means
// DefaultActivityRows).
func NewActivityView(history []activity.Entry, maxRows int, parent fyne.Window) *ActivityView {
	if maxRows <= 0 {
		maxRows = DefaultActivityRows
	}
	v := &ActivityView{max: maxRows, parent: parent, zone: time.Local}
	v.list = widget.NewList(
		func() int { return len(v.shown) },
		func() fyne.CanvasObject {
			when := widget.NewLabel("00:00:00")
			when.TextStyle = fyne.TextStyle{Monospace: true}
			what := widget.NewLabel("")
			what.Truncation = fyne.TextTruncateEllipsis
			result := widget.NewLabel("")
			return container.NewBorder(nil, nil, when, result, what)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			e := v.shown[i]
			row := o.(*fyne.Container)
			row.Objects[0].(*widget.Label).SetText(summary(e))
			row.Objects[1].(*widget.Label).SetText(e.Time.In(v.zone).Format("15:04:05"))
			res := row.Objects[2].(*widget.Label)
			res.SetText(resultText(e))
			res.Importance = resultImportance(e)
			res.Refresh()
		},
	)
	v.filterEntry = widget.NewEntry()
	v.filterEntry.SetPlaceHolder("Filter: a client, component, tool or word")
	v.filterEntry.OnChanged = v.SetFilter
	v.count = widget.NewLabel("")
	export := widget.NewButton("Export…", v.exportDialog)
	top := container.NewBorder(nil, nil, nil, container.NewHBox(v.count, export), v.filterEntry)
	v.content = container.NewBorder(top, nil, nil, nil, v.list)
	for _, e := range history {
		v.append(e)
	}
	v.refilter()
	return v
}

// Content is the view's root object.
func (v *ActivityView) Content() fyne.CanvasObject { return v.content }

// Add records a Host event, if it is one a person looks back on. Call it
// on the UI goroutine.
func (v *ActivityView) Add(e sandbox.Event) {
	entry, ok := entryOf(e)
	if !ok {
		return
	}
	v.append(entry)
	v.refilter()
}

func (v *ActivityView) append(e activity.Entry) {
	v.entries = append(v.entries, e)
	if over := len(v.entries) - v.max; over > 0 {
		v.entries = append(v.entries[:0], v.entries[over:]...)
	}
}

// SetFilter shows only entries whose text contains s (any case).
func (v *ActivityView) SetFilter(s string) {
	v.filter = strings.ToLower(strings.TrimSpace(s))
	v.refilter()
}

func (v *ActivityView) refilter() {
	v.shown = v.shown[:0]
	for i := len(v.entries) - 1; i >= 0; i-- {
		e := v.entries[i]
		if v.filter == "" || strings.Contains(strings.ToLower(summary(e)+" "+resultText(e)), v.filter) {
			v.shown = append(v.shown, e)
		}
	}
	v.count.SetText(fmt.Sprintf("%d of %d", len(v.shown), len(v.entries)))
	v.list.Refresh()
}

// Export writes the entries the filter shows, oldest first, one JSON object
// a line (the activity log's own format).
func (v *ActivityView) Export(w io.Writer) error {
	enc := json.NewEncoder(w)
	for i := len(v.shown) - 1; i >= 0; i-- {
		if err := enc.Encode(v.shown[i]); err != nil {
			return fmt.Errorf("export activity: %w", err)
		}
	}
	return nil
}

func (v *ActivityView) exportDialog() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		err = v.Export(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			dialog.ShowError(fmt.Errorf("%w; choose another place to save it", err), v.parent)
		}
	}, v.parent)
	d.SetFileName("tapedeck-activity.jsonl")
	d.Show()
}

// entryOf turns a Host event into an activity entry, as the Host logs it.
func entryOf(e sandbox.Event) (activity.Entry, bool) {
	kinds := map[sandbox.EventKind]activity.Kind{
		sandbox.EventLoaded: activity.KindLoad, sandbox.EventFailed: activity.KindLoad,
		sandbox.EventUnloaded: activity.KindUnload, sandbox.EventCallFinished: activity.KindCall,
		sandbox.EventAsked: activity.KindAsk, sandbox.EventAllowed: activity.KindAnswer,
		sandbox.EventDenied: activity.KindDenial, sandbox.EventPolicyChanged: activity.KindGrant,
		sandbox.EventClientConnected: activity.KindClient, sandbox.EventClientDisconnected: activity.KindClient,
	}
	kind, ok := kinds[e.Kind]
	if !ok {
		return activity.Entry{}, false
	}
	entry := activity.Entry{Time: e.Time, Kind: kind, Component: e.Component, Tool: e.Tool, Duration: e.Duration,
		Detail: map[string]string{"event": string(e.Kind)}}
	if entry.Time.IsZero() {
		entry.Time = time.Now()
	}
	if e.Client != nil {
		entry.Client = e.Client.String()
	}
	for k, val := range map[string]string{"access": e.Access, "answer": e.Answer, "detail": e.Detail} {
		if val != "" {
			entry.Detail[k] = val
		}
	}
	switch {
	case e.Kind == sandbox.EventDenied:
		entry.Result = "denied"
	case e.IsError || e.Kind == sandbox.EventFailed:
		entry.Result = "error"
	default:
		entry.Result = "ok"
	}
	return entry, true
}

// summary reads "call · claude (pid 4121) · weather/fetch".
func summary(e activity.Entry) string {
	parts := []string{string(e.Kind)}
	if ev := e.Detail["event"]; ev == string(sandbox.EventClientDisconnected) {
		parts[0] = "client left"
	}
	if e.Client != "" {
		parts = append(parts, e.Client)
	}
	target := e.Component
	if e.Tool != "" {
		target = strings.TrimPrefix(e.Component+"/"+e.Tool, "/")
	}
	if target != "" {
		parts = append(parts, target)
	}
	if a := e.Detail["access"]; a != "" {
		parts = append(parts, a)
	}
	if a := e.Detail["answer"]; a != "" {
		parts = append(parts, "answer: "+a)
	}
	if d := e.Detail["detail"]; d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, " · ")
}

func resultText(e activity.Entry) string {
	if e.Duration > 0 {
		return fmt.Sprintf("%s · %s", e.Result, e.Duration.Round(time.Millisecond))
	}
	return e.Result
}

func resultImportance(e activity.Entry) widget.Importance {
	switch e.Result {
	case "ok", "":
		return widget.MediumImportance
	case "denied":
		return widget.WarningImportance
	}
	return widget.DangerImportance
}
