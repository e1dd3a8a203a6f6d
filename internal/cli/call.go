package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/sandbox/component"
)

const callArgs = "FILE.wasm TOOL [--args JSON] [--timeout DURATION]"

var callCmd = &Command{
	Name:  "call",
	Args:  callArgs,
	Short: "call one tool of a component once, with nothing allowed",
	Long: `Loads the component, calls TOOL with the JSON object --args (default {}) and
prints {"result": …}. The component runs with a deny-all policy: no files, no
network, an empty environment. What it writes to stdout and stderr is shown on
stderr. Exit status 1 (with the reason on stderr) when the tool traps, times
out, or the arguments do not fit its parameters.`,
	Run: runCall,
}

func runCall(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "call", callArgs)
	argsJSON := fs.String("args", "{}", "the tool's arguments, a JSON object")
	timeout := fs.Duration("timeout", 30*time.Second, "stop the call after this long")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return UsageError("call takes a component file and a tool name")
	}
	if !json.Valid([]byte(*argsJSON)) {
		return UsageError("--args is not valid JSON: %s", *argsJSON)
	}
	file, toolName := pos[0], pos[1]
	wasm, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	cacheDir, err := env.cacheDir()
	if err != nil {
		return err
	}
	reg, wasiHost := newHostRegistry(hostConfig{})
	rt, err := component.NewRuntime(ctx, component.Config{CacheDir: cacheDir, Hosts: reg})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	comp, err := rt.Compile(ctx, wasm)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var tool *component.Tool
	var names []string
	for _, t := range comp.Tools() {
		if t.Name == toolName || strings.Join(t.Func.Path, "#") == toolName {
			t := t
			tool = &t
		}
		names = append(names, t.Name)
	}
	if tool == nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s has no tool %q; its tools: %s", file, toolName, strings.Join(names, ", "))}
	}
	if tool.Unavailable != "" {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("tool %s cannot be called with JSON: %s", tool.Name, tool.Unavailable)}
	}
	inst, err := comp.Instantiate(ctx, component.InstantiateOptions{})
	if err != nil {
		return err
	}
	defer inst.Close(ctx)
	cctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := inst.CallJSON(cctx, tool.Func, json.RawMessage(*argsJSON))
	showGuestOutput(env, inst, wasiHost)
	if err != nil {
		var ae *component.ArgumentError
		if errors.As(err, &ae) {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("bad arguments for %s: %w", tool.Name, err)}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %w (raise the limit with --timeout)", tool.Name, err)}
		}
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %w", tool.Name, err)}
	}
	out := res.Structured
	if out == nil {
		out = json.RawMessage(`{"result":null}`)
	}
	return writeJSON(env.Stdout, out)
}

// cacheDir returns the folder for compiled code, creating it.
func (e *Env) cacheDir() (string, error) {
	d, err := paths.Resolve(paths.Options{DataDir: e.DataDir, Getenv: e.Getenv})
	if err != nil {
		return "", err
	}
	dir := filepath.Join(d.Cache, "wazero")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("compilation cache: %w", err)
	}
	return dir, nil
}
