package ui

import (
	"context"

	"fyne.io/fyne/v2"

	"tapedeck.dev/tapedeck/sandbox"
)

// Watch hands each of the backend's events to handle on the UI goroutine
// until ctx is done or the backend closes. It returns at once.
func Watch(ctx context.Context, b Backend, handle func(sandbox.Event)) {
	events := b.Subscribe(ctx)
	go func() {
		for e := range events {
			fyne.Do(func() { handle(e) })
		}
	}()
}
