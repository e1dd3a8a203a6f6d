// Package ui holds Tapedeck's windows, dialogs and tray menu model, built on
// Fyne widgets but not on a Fyne driver: it never imports fyne/v2/app, so
// every view tests with Fyne's test driver, without a display or cgo.
//
// The views see the sandbox only through the small interfaces in
// backend.go. Work from other goroutines (Host events, a Prompter's Ask)
// reaches widgets only through fyne.Do.
package ui
