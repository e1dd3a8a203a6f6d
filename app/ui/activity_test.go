package ui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

func activityEvents() []sandbox.Event {
	at := time.Date(2026, 3, 4, 10, 11, 12, 0, time.UTC)
	claude := &sandbox.Client{Name: "Claude Code", Transport: "socket", PID: 4121, Process: "claude"}
	cursor := &sandbox.Client{Name: "cursor", Transport: "stdio"}
	return []sandbox.Event{
		{Time: at, Kind: sandbox.EventClientConnected, Client: claude},
		{Time: at, Kind: sandbox.EventCallStarted, Component: "weather", Tool: "get-forecast", Client: claude},
		{Time: at.Add(time.Second), Kind: sandbox.EventAsked, Component: "weather", Tool: "get-forecast", Client: claude, Access: "connect api.example.com:443"},
		{Time: at.Add(2 * time.Second), Kind: sandbox.EventAllowed, Component: "weather", Client: claude, Access: "connect api.example.com:443", Answer: "allow once"},
		{Time: at.Add(3 * time.Second), Kind: sandbox.EventCallFinished, Component: "weather", Tool: "get-forecast", Client: claude, Duration: 1500 * time.Millisecond},
		{Time: at.Add(4 * time.Second), Kind: sandbox.EventDenied, Component: "notes", Tool: "read", Client: cursor, Access: "read /home/ana/.ssh/id_ed25519"},
		{Time: at.Add(5 * time.Second), Kind: sandbox.EventCallFinished, Component: "notes", Tool: "read", Client: cursor, IsError: true, Duration: 20 * time.Millisecond},
	}
}

func newTestActivity(t *testing.T, maxRows int) (*ActivityView, fyne.Window) {
	test.NewTempApp(t)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	v := NewActivityView(nil, maxRows, w)
	v.zone = time.UTC
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(800, 400))
	return v, w
}

func TestActivityWindowRenders(t *testing.T) {
	v, w := newTestActivity(t, 0)
	for _, e := range activityEvents() {
		v.Add(e)
	}
	test.AssertRendersToMarkup(t, "activity/events.xml", w.Canvas())
}

func TestActivityFilterBoundExport(t *testing.T) {
	t.Run("call_started_is_not_a_row", func(t *testing.T) {
		v, _ := newTestActivity(t, 0)
		for _, e := range activityEvents() {
			v.Add(e)
		}
		if len(v.shown) != 6 {
			t.Errorf("%d rows; want 6 (every event but call-started)", len(v.shown))
		}
		if v.shown[0].Result != "error" || v.shown[1].Result != "denied" {
			t.Errorf("newest rows = %q, %q; want error then denied, newest first", v.shown[0].Result, v.shown[1].Result)
		}
	})
	t.Run("filter", func(t *testing.T) {
		tests := []struct {
			filter string
			want   int
		}{{"", 6}, {"cursor", 2}, {"DENIED", 1}, {"weather", 3}, {"answer: allow once", 1}, {"nothing-matches", 0}}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%q", tt.filter), func(t *testing.T) {
				v, _ := newTestActivity(t, 0)
				for _, e := range activityEvents() {
					v.Add(e)
				}
				test.Type(v.filterEntry, tt.filter)
				if len(v.shown) != tt.want {
					t.Errorf("filter %q shows %d rows; want %d", tt.filter, len(v.shown), tt.want)
				}
			})
		}
	})
	t.Run("bounded", func(t *testing.T) {
		v, _ := newTestActivity(t, 3)
		for _, e := range activityEvents() {
			v.Add(e)
		}
		if len(v.entries) != 3 {
			t.Fatalf("kept %d entries; want the bound, 3", len(v.entries))
		}
		if v.entries[2].Kind != activity.KindCall || v.entries[0].Kind != activity.KindCall {
			t.Errorf("kept %v; want the newest three", v.entries)
		}
	})
	t.Run("export_json_lines", func(t *testing.T) {
		v, _ := newTestActivity(t, 0)
		for _, e := range activityEvents() {
			v.Add(e)
		}
		v.SetFilter("weather")
		var buf bytes.Buffer
		if err := v.Export(&buf); err != nil {
			t.Fatal(err)
		}
		var got []activity.Entry
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var e activity.Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %q is not an activity entry: %v", sc.Text(), err)
			}
			got = append(got, e)
		}
		if len(got) != 3 {
			t.Fatalf("exported %d lines; want the 3 the filter shows", len(got))
		}
		if got[0].Kind != activity.KindAsk || got[2].Kind != activity.KindCall || got[2].Duration != 1500*time.Millisecond {
			t.Errorf("export = %+v; want oldest first, with durations", got)
		}
	})
	t.Run("history_first", func(t *testing.T) {
		test.NewTempApp(t)
		history := []activity.Entry{{Time: time.Unix(1, 0), Kind: activity.KindLoad, Component: "old", Result: "ok"}}
		v := NewActivityView(history, 0, test.NewWindow(nil))
		v.Add(activityEvents()[4])
		if len(v.shown) != 2 || v.shown[1].Component != "old" {
			t.Errorf("rows = %+v; want the live call above the history", v.shown)
		}
	})
}
