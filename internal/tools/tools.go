//go:build tools

// Package tools pins dependencies in go.mod that the code reaches only from
// some builds (Fyne from the desktop build, the OCI registry from tests).
// It is never compiled.
package tools

import (
	_ "fyne.io/fyne/v2"
	_ "fyne.io/fyne/v2/app"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/tetratelabs/wazero"
	_ "github.com/zalando/go-keyring"
	_ "gopkg.in/yaml.v3"
)
