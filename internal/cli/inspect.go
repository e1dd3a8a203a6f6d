package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

const inspectArgs = "FILE.wasm [-o text|json]"

var inspectCmd = &Command{
	Name:  "inspect",
	Args:  inspectArgs,
	Short: "show a component's imports, exports, tool names and schemas",
	Long: `Decodes and validates a component without running it. Imports that Tapedeck
cannot serve are marked, so a component that will not load says why here.`,
	Run: runInspect,
}

func runInspect(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "inspect", inspectArgs)
	output := fs.String("o", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("inspect takes one component file")
	}
	if *output != "text" && *output != "json" {
		return UsageError("-o must be text or json, not %q", *output)
	}
	wasm, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	// The registry of the host interfaces a Host links components against,
	// so imports Tapedeck cannot serve are marked.
	reg := component.NewRegistry()
	wasi.New(wasi.Config{}).Register(reg)
	info, err := component.Inspect(wasm, reg)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *output == "json" {
		return writeJSON(env.Stdout, inspectJSON(info))
	}
	printInspect(env.Stdout, pos[0], info)
	return nil
}

type inspectOutput struct {
	Name    string             `json:"name,omitempty"`
	Size    int                `json:"size"`
	SHA256  string             `json:"sha256"`
	Imports []component.Extern `json:"imports"`
	Exports []component.Extern `json:"exports"`
	Tools   []toolJSON         `json:"tools"`
}

type toolJSON struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	Export       []string        `json:"export"`
	Signature    string          `json:"signature"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Unavailable  string          `json:"unavailable,omitempty"`
}

func inspectJSON(info *component.Info) inspectOutput {
	out := inspectOutput{Name: info.Name, Size: info.Size, SHA256: info.SHA256,
		Imports: info.Imports, Exports: info.Exports, Tools: []toolJSON{}}
	if out.Imports == nil {
		out.Imports = []component.Extern{}
	}
	if out.Exports == nil {
		out.Exports = []component.Extern{}
	}
	for _, t := range info.Tools {
		out.Tools = append(out.Tools, toolJSON{Name: t.Name, Description: t.Description, Export: t.Func.Path,
			Signature: t.Func.Type.String(), InputSchema: t.InputSchema, OutputSchema: t.OutputSchema, Unavailable: t.Unavailable})
	}
	return out
}

func printInspect(w io.Writer, file string, info *component.Info) {
	fmt.Fprintf(w, "%s: component, %s, sha256 %s\n", file, humanBytes(info.Size), info.SHA256[:16])
	fmt.Fprintf(w, "\nimports (%d):\n", len(info.Imports))
	if len(info.Imports) == 0 {
		fmt.Fprintln(w, "  none: this component cannot reach anything outside itself")
	}
	for _, e := range info.Imports {
		mark := ""
		if e.Missing != "" {
			mark = "   ← not available: " + e.Missing
		}
		fmt.Fprintf(w, "  %s (%s)%s\n", e.Name, e.Kind, mark)
	}
	fmt.Fprintf(w, "\nexports (%d):\n", len(info.Exports))
	for _, e := range info.Exports {
		if e.Kind == "instance" {
			fmt.Fprintf(w, "  %s (instance)\n", e.Name)
			for _, f := range e.Funcs {
				fmt.Fprintf(w, "    %s: %s\n", f.Name, f.Type)
			}
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n", e.Name, e.Type)
	}
	fmt.Fprintf(w, "\ntools (%d):\n", len(info.Tools))
	for _, t := range info.Tools {
		fmt.Fprintf(w, "  %s\n", t.Name)
		if t.Description != "" {
			fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(strings.TrimSpace(t.Description), "\n", "\n      "))
		}
		fmt.Fprintf(w, "      %s\n", t.Func.Type)
		if t.Unavailable != "" {
			fmt.Fprintf(w, "      not callable as a tool: %s\n", t.Unavailable)
			continue
		}
		fmt.Fprintf(w, "      input:  %s\n", t.InputSchema)
		if t.OutputSchema != nil {
			fmt.Fprintf(w, "      output: %s\n", t.OutputSchema)
		}
	}
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
