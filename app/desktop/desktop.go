// Package desktop runs Tapedeck's desktop app: the Fyne app, its tray icon
// and menu (or, where no tray exists, a main window that says why), the
// question window the sandbox asks through, and the Components and
// Activity windows. The views themselves live in app/ui; this package
// wires them to a started owner and to the platform.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	fynedesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/app/autostart"
	"tapedeck.dev/tapedeck/app/handover"
	"tapedeck.dev/tapedeck/app/ui"
	"tapedeck.dev/tapedeck/assets"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

// AppID is the app's identity for Fyne's preferences, autostart and macOS.
const AppID = "dev.tapedeck.Tapedeck"

// ErrAlreadyRunning is returned by Run when another instance runs; it was
// asked to show its window.
var ErrAlreadyRunning = handover.ErrRunning

// Deps are the started pieces Run works with.
type Deps struct {
	// Host is the sandbox host the owner started; Run sets its Prompter to
	// the question window, and back to nil when it returns.
	Host interface {
		ui.Backend
		SetPrompter(sandbox.Prompter)
	}
	// Settings changes per-component settings; nil leaves those controls out.
	Settings ui.ComponentSettings
	// Secrets edits per-component secrets; nil leaves the editor out.
	Secrets ui.Secrets
	// ActivityDir is the data dir whose activity log the Activity window
	// starts from; empty starts it empty.
	ActivityDir string
	// HandoverSocket is where a second launch asks this one to show its
	// window; empty means no single-instance check.
	HandoverSocket string
	// Editors connects editors to Tapedeck (a *clients.Manager); nil hides
	// "Connect editors…".
	Editors ui.Editors
	// QuestionTimeout is how long a question waits for the person before
	// it is denied (config's prompt-timeout); 0 means
	// ui.DefaultQuestionTimeout.
	QuestionTimeout time.Duration
	// Version is shown in About.
	Version string
	// Logger gets what goes wrong in the background; nil means slog's default.
	Logger *slog.Logger

	// started, when set, is called on the UI goroutine once the app runs
	// (the end-to-end test drives the app from there).
	started func(*desktopApp)
}

// Run runs the app until the person quits or ctx is done.
func Run(ctx context.Context, deps Deps) (err error) {
	if deps.Host == nil {
		return errors.New("desktop: Deps.Host is required")
	}
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon()))
	d := &desktopApp{ctx: ctx, app: a, deps: deps, log: log}

	if deps.HandoverSocket != "" {
		srv, err := handover.Listen(ctx, deps.HandoverSocket, func() { fyne.Do(d.showMain) })
		if err != nil {
			return err // ErrRunning included: the caller exits quietly
		}
		defer srv.Close()
	}

	d.prompter = ui.NewPrompter(a, ui.PrompterOptions{Waiting: d.notifyIfHidden, Timeout: deps.QuestionTimeout})
	deps.Host.SetPrompter(d.prompter)
	defer deps.Host.SetPrompter(nil)

	d.buildWindows()
	d.tray = ui.NewTrayMenu(d.trayActions())
	d.status = ui.Status{Paused: deps.Host.Paused(), Components: len(deps.Host.List())}
	d.tray.SetStatus(d.status)

	hasTray, why := trayHost()
	desk, isDesktop := a.(fynedesktop.App)
	if hasTray && isDesktop {
		desk.SetSystemTrayIcon(fyne.NewStaticResource("tray.png", assets.TrayIcon(a.Settings().ThemeVariant() == theme.VariantDark)))
		desk.SetSystemTrayMenu(d.tray.Menu())
	} else {
		if why == "" {
			why = "this platform has no system tray"
		}
		d.noTray = why
		d.openMainWindow()
	}

	ui.Watch(ctx, deps.Host, d.handle)
	if deps.started != nil {
		a.Lifecycle().SetOnStarted(func() { deps.started(d) })
	}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			fyne.Do(a.Quit)
		case <-stopped: // the person quit
		}
	}()

	// systray in Fyne v2.7.1 can panic while shutting down (nativeEnd with no
	// bus connection); a panic at exit must not lose the exit status.
	defer func() {
		if r := recover(); r != nil {
			log.Warn("the desktop toolkit panicked while quitting", "panic", r)
			err = nil
		}
	}()
	a.Run()
	return nil
}

// desktopApp is the running app's state; its fields are used on the UI
// goroutine only, but for visible, which the notifier reads.
type desktopApp struct {
	ctx      context.Context
	app      fyne.App
	deps     Deps
	log      *slog.Logger
	prompter *ui.Prompter
	tray     *ui.TrayMenu
	status   ui.Status
	noTray   string // why there is no tray; "" when there is one

	components     *ui.ComponentsView
	componentsWin  fyne.Window
	activity       *ui.ActivityView
	activityWin    fyne.Window
	editors        *ui.EditorsView
	editorsWin     fyne.Window
	mainWin        fyne.Window
	mainStatus     *widget.Label
	visibleMu      sync.Mutex
	visibleWindows map[fyne.Window]bool
}

func (d *desktopApp) buildWindows() {
	d.visibleWindows = map[fyne.Window]bool{}
	d.componentsWin = d.app.NewWindow("Tapedeck — Components")
	d.components = ui.NewComponentsView(d.ctx, ui.ComponentsDeps{Backend: d.deps.Host, Settings: d.deps.Settings, Secrets: d.deps.Secrets}, d.componentsWin)
	d.componentsWin.SetContent(d.components.Content())
	d.componentsWin.Resize(fyne.NewSize(900, 600))
	d.componentsWin.SetOnDropped(d.components.AddDropped)
	d.hideOnClose(d.componentsWin)

	var history []activity.Entry
	if d.deps.ActivityDir != "" {
		h, err := activity.Read(d.deps.ActivityDir, activity.Filter{}, ui.DefaultActivityRows)
		if err != nil {
			d.log.Warn("the Activity window starts empty", "error", err)
		}
		history = h
	}
	d.activityWin = d.app.NewWindow("Tapedeck — Activity")
	d.activity = ui.NewActivityView(history, 0, d.activityWin)
	d.activityWin.SetContent(d.activity.Content())
	d.activityWin.Resize(fyne.NewSize(800, 500))
	d.hideOnClose(d.activityWin)

	if d.deps.Editors != nil {
		d.editorsWin = d.app.NewWindow("Tapedeck — Connect editors")
		d.editors = ui.NewEditorsView(d.deps.Editors)
		d.editorsWin.SetContent(d.editors.Content())
		d.editorsWin.Resize(fyne.NewSize(720, 420))
		d.hideOnClose(d.editorsWin)
	}
}

// hideOnClose keeps a window for next time: with a tray, closing a window
// must not quit the app.
func (d *desktopApp) hideOnClose(w fyne.Window) {
	w.SetCloseIntercept(func() {
		d.setVisible(w, false)
		w.Hide()
	})
}

func (d *desktopApp) show(w fyne.Window) {
	d.setVisible(w, true)
	w.Show()
	w.RequestFocus()
}

func (d *desktopApp) setVisible(w fyne.Window, on bool) {
	d.visibleMu.Lock()
	defer d.visibleMu.Unlock()
	d.visibleWindows[w] = on
}

// notifyIfHidden sends a desktop notification for a question when none of
// the app's windows is in view, as the question window may open behind
// whatever the person works in.
func (d *desktopApp) notifyIfHidden(req sandbox.AccessRequest) {
	d.visibleMu.Lock()
	inView := false
	for _, on := range d.visibleWindows {
		inView = inView || on
	}
	d.visibleMu.Unlock()
	if inView {
		return
	}
	comp := req.Component
	if comp == "" {
		comp = "A component"
	}
	d.app.SendNotification(fyne.NewNotification("Tapedeck asks", comp+" is waiting for your answer."))
}

// openMainWindow is the window shown where there is no tray: the tray's
// menu as its menu bar, the reason, and the Components view.
func (d *desktopApp) openMainWindow() {
	w := d.app.NewWindow("Tapedeck")
	note := widget.NewLabel("No tray icon: " + d.noTray + ". This window stands in for it; closing it quits Tapedeck.")
	note.Wrapping = fyne.TextWrapWord
	open := container.NewHBox(
		widget.NewButton("Components…", d.showComponents),
		widget.NewButton("Activity…", d.showActivity),
		widget.NewButton("Quit", d.app.Quit),
	)
	status := widget.NewLabel("")
	d.mainStatus = status
	status.SetText(d.status.String())
	w.SetContent(container.NewVBox(note, status, open))
	w.SetMainMenu(fyne.NewMainMenu(d.tray.Menu()))
	w.Resize(fyne.NewSize(560, 200))
	w.SetMaster()
	d.mainWin = w
	d.show(w)
}

func (d *desktopApp) showMain() {
	if d.mainWin != nil {
		d.show(d.mainWin)
		return
	}
	d.showComponents()
}

func (d *desktopApp) showComponents() {
	d.components.Refresh()
	d.show(d.componentsWin)
}

func (d *desktopApp) showActivity() { d.show(d.activityWin) }

func (d *desktopApp) showEditors() {
	d.editors.Refresh()
	d.show(d.editorsWin)
}

func (d *desktopApp) trayActions() ui.TrayActions {
	actions := ui.TrayActions{
		ShowComponents: d.showComponents,
		ShowActivity:   d.showActivity,
		ShowAbout:      d.showAbout,
		SetPaused: func(paused bool) {
			if paused {
				d.deps.Host.Pause()
			} else {
				d.deps.Host.Resume()
			}
		},
		Quit: d.app.Quit,
	}
	if d.editors != nil {
		actions.ShowEditors = d.showEditors
	}
	if item, err := d.autostartItem(); err == nil {
		on, err := autostart.Enabled(item)
		if err != nil {
			d.log.Warn("cannot tell whether Tapedeck starts at login", "error", err)
		}
		actions.Autostart = on
		actions.SetAutostart = func(want bool) bool {
			change := autostart.Disable
			if want {
				change = autostart.Enable
			}
			if err := change(item); err != nil {
				d.log.Warn("start at login", "error", err)
				return !want
			}
			return want
		}
	}
	return actions
}

func (d *desktopApp) autostartItem() (autostart.Item, error) {
	exe, err := os.Executable()
	if err != nil {
		return autostart.Item{}, fmt.Errorf("where is this program: %w", err)
	}
	return autostart.Item{ID: AppID, Name: "Tapedeck", Command: []string{exe}}, nil
}

func (d *desktopApp) showAbout() {
	w := d.app.NewWindow("About Tapedeck")
	version := d.deps.Version
	if version == "" {
		version = d.app.Metadata().Version
	}
	text := widget.NewLabel(fmt.Sprintf("Tapedeck %s\n\nRuns MCP tools as WebAssembly components in a sandbox and asks you before they reach for your files, the network or your secrets.", version))
	text.Wrapping = fyne.TextWrapWord
	w.SetContent(container.NewBorder(nil, container.NewHBox(widget.NewButton("Close", w.Close)), nil, nil, text))
	w.Resize(fyne.NewSize(420, 200))
	w.Show()
}

// handle follows one Host event on the UI goroutine.
func (d *desktopApp) handle(e sandbox.Event) {
	before := d.status
	d.status = d.status.Apply(e)
	switch e.Kind {
	case sandbox.EventLoaded, sandbox.EventUnloaded, sandbox.EventReady, sandbox.EventFailed, sandbox.EventCompiling, sandbox.EventPolicyChanged:
		d.status.Components = len(d.deps.Host.List())
		d.components.Refresh()
	}
	// Re-sending the tray menu over DBus costs; most events leave the line as it was.
	if d.status != before {
		d.tray.SetStatus(d.status)
		if d.mainStatus != nil {
			d.mainStatus.SetText(d.status.String())
		}
	}
	d.activity.Add(e)
}
