package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/sandbox"
)

// questionView is the content of the question window. It keeps its widget
// handles so tests can read and tap them.
type questionView struct {
	content fyne.CanvasObject

	headline  *widget.Label
	component *widget.Label
	tool      *widget.Label
	client    *widget.Label
	process   *widget.Label
	folder    *widget.Label
	what      *widget.Label
	why       *widget.Label
	proposal  *widget.Label
	proposalC fyne.CanvasObject
	folderRow fyne.CanvasObject // holds allowFolder; hidden with it
	countdown *widget.Label     // the countdown and how many wait behind
	left      time.Duration
	waiting   int

	deny, allowOnce, allowAlways, denyAlways, allowFolder *widget.Button
}

func newQuestionView(press func(sandbox.Answer)) *questionView {
	v := &questionView{}
	wrapped := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	truncated := func() *widget.Label {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	v.headline = wrapped()
	v.headline.TextStyle = fyne.TextStyle{Bold: true}
	v.headline.SizeName = "subHeadingText"
	v.component, v.tool, v.client, v.process, v.folder = truncated(), truncated(), truncated(), truncated(), truncated()
	v.what = wrapped()
	v.what.TextStyle = fyne.TextStyle{Monospace: true}
	v.why = wrapped()
	v.proposal = widget.NewLabel("")
	v.proposal.TextStyle = fyne.TextStyle{Monospace: true}
	scroll := container.NewScroll(v.proposal)
	scroll.SetMinSize(fyne.NewSize(0, 120))
	v.proposalC = scroll
	v.countdown = widget.NewLabel("")
	v.countdown.Truncation = fyne.TextTruncateEllipsis

	v.deny = widget.NewButton("Deny", func() { press(sandbox.Deny) })
	v.deny.Importance = widget.HighImportance // the default answer
	v.allowOnce = widget.NewButton("Allow once", func() { press(sandbox.AllowOnce) })
	v.allowAlways = widget.NewButton("Always allow", func() { press(sandbox.AllowAlways) })
	v.denyAlways = widget.NewButton("Always deny", func() { press(sandbox.DenyAlways) })
	v.allowFolder = widget.NewButton("Always allow the whole folder", func() { press(sandbox.AllowFolderAlways) })

	v.folderRow = container.NewHBox(layout.NewSpacer(), v.allowFolder)
	details := widget.NewForm(
		widget.NewFormItem("Component", v.component),
		widget.NewFormItem("Tool", v.tool),
		widget.NewFormItem("Client", v.client),
		widget.NewFormItem("Process", v.process),
		widget.NewFormItem("Folder", v.folder),
	)
	footer := container.NewVBox(
		widget.NewSeparator(),
		v.countdown,
		v.folderRow,
		container.NewHBox(layout.NewSpacer(), v.denyAlways, v.allowAlways, v.allowOnce, v.deny),
	)
	body := container.NewVBox(v.headline, v.what, v.proposalC, details, v.why)
	v.content = container.NewBorder(nil, footer, nil, nil, container.NewVScroll(body))
	return v
}

// show fills the view for req; the buttons start inert (setArmed).
func (v *questionView) show(req sandbox.AccessRequest, text questionText) {
	v.headline.SetText(text.Headline)
	v.what.SetText(text.What)
	v.why.SetText(text.Why)
	v.component.SetText(orDash(req.Component))
	v.tool.SetText(orDash(req.Tool))
	v.client.SetText(text.Client)
	v.process.SetText(text.Process)
	v.folder.SetText(orDash(req.Folder))

	always := req.AllowAlwaysOffered
	visible := func(b *widget.Button, on bool) {
		if on {
			b.Show()
		} else {
			b.Hide()
		}
	}
	if req.Proposal != "" {
		v.proposal.SetText(req.Proposal)
		v.proposalC.Show()
		v.allowAlways.SetText("Apply this policy")
		visible(v.allowOnce, false)
		visible(v.allowAlways, true)
		visible(v.denyAlways, false)
		visible(v.allowFolder, false)
		v.folderRow.Hide()
		return
	}
	v.proposal.SetText("")
	v.proposalC.Hide()
	v.allowAlways.SetText("Always allow")
	// An agent's grant request widens the policy for good: approving it is
	// not "once", so the button says what it does.
	if req.Grant {
		v.allowOnce.SetText("Grant")
	} else {
		v.allowOnce.SetText("Allow once")
	}
	visible(v.allowOnce, true)
	visible(v.allowAlways, always)
	visible(v.denyAlways, always)
	visible(v.allowFolder, always && req.Folder != "")
	if v.allowFolder.Visible() {
		v.folderRow.Show()
	} else {
		v.folderRow.Hide()
	}
}

// setArmed makes the buttons live (or inert, greyed out).
func (v *questionView) setArmed(armed bool) {
	for _, b := range []*widget.Button{v.deny, v.allowOnce, v.allowAlways, v.denyAlways, v.allowFolder} {
		if armed {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

func (v *questionView) setCountdown(left time.Duration) {
	v.left = left
	v.countdown.SetText(footerText(v.left, v.waiting))
}

func (v *questionView) setQueued(n int) {
	v.waiting = n
	v.countdown.SetText(footerText(v.left, v.waiting))
}

// footerText reads "Denied automatically in 42 s · 2 more questions waiting".
func footerText(left time.Duration, waiting int) string {
	text := countdownText(left)
	switch waiting {
	case 0:
	case 1:
		text += " · 1 more question waiting"
	default:
		text += fmt.Sprintf(" · %d more questions waiting", waiting)
	}
	return text
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
