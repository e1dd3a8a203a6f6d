//go:build tools

// This file pins the project's required dependencies in go.mod before code imports them all.

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
