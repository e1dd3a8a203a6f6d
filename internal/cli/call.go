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

	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/policy"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

const callArgs = "FILE.wasm TOOL [--args JSON] [--policy policy.yaml] [--secret KEY=VALUE]... [--prompt deny|allow|ask] [--timeout DURATION]"

var callCmd = &Command{
	Name:  "call",
	Args:  callArgs,
	Short: "call one tool of a component once, under a policy",
	Long: `Loads the component, calls TOOL with the JSON object --args (default {}) and
prints {"result": …}. The component runs under the policy file --policy
(Wassette's policy.yaml); without one nothing is allowed: no files, no network,
an empty environment. What the policy leaves open is settled by --prompt:
deny (the default) refuses it, allow allows it once, ask asks on the terminal
(y: allow once, a: allow always and save the rule into the --policy file,
n: deny, N: always deny and save that).

The environment holds only the variables the policy allows, each from
--secret KEY=VALUE if given, else from this process's environment.
resources.limits.memory caps the component's memory; --timeout stops the call.

What the component writes to stdout and stderr is shown on stderr, and so is
every access that was refused, with the command that would allow it. Exit
status 1 (with the reason on stderr) when the tool traps, runs out of time or
memory, or the arguments do not fit its parameters.`,
	Run: runCall,
}

// secretFlags collects repeated --secret KEY=VALUE flags.
type secretFlags map[string]string

func (s secretFlags) String() string { return "" }

func (s secretFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	s[k] = val
	return nil
}

func runCall(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "call", callArgs)
	argsJSON := fs.String("args", "{}", "the tool's arguments, a JSON object")
	timeout := fs.Duration("timeout", 30*time.Second, "stop the call after this long")
	policyFile := fs.String("policy", "", "the component's policy.yaml; \"always\" answers are saved into it")
	secrets := secretFlags{}
	fs.Var(secrets, "secret", "a secret the component sees as an allowed variable, KEY=VALUE (repeatable)")
	promptMode := fs.String("prompt", "deny", "what to do about accesses the policy leaves open: deny, allow (once) or ask")
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
	prompter, err := prompterFor(*promptMode, env)
	if err != nil {
		return err
	}
	file, toolName := pos[0], pos[1]
	id := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	pol, policyPath, err := loadCallPolicy(*policyFile)
	if err != nil {
		return err
	}
	limits := sandbox.LimitsFromPolicy(pol, sandbox.LimitOverrides{Timeout: *timeout})
	for _, w := range limits.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	protected, err := env.protected()
	if err != nil {
		return err
	}
	gate := sandbox.NewGate(sandbox.GateConfig{Component: id, Policy: pol, PolicyPath: policyPath,
		Protected: protected, Prompter: prompter})
	values := sandbox.EnvSource{
		Policy:    gate.Policy,
		Protected: protected,
		Secret:    func(k string) (string, bool) { v, ok := secrets[k]; return v, ok },
		Process: func(k string) (string, bool) {
			v := env.getenv(k)
			return v, v != ""
		},
	}

	wasm, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	cacheDir, err := env.cacheDir()
	if err != nil {
		return err
	}
	reg, wasiHost := newHostRegistry(hostConfig{wasi: wasi.Config{Environment: values.Environment, Store: values}})
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
	cg := gate.ForCall(tool.Name, sandbox.Client{Name: "tapedeck call", Transport: "cli"})
	cctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	cctx = access.WithChecker(cctx, cg)
	inst, err := comp.Instantiate(cctx, limits.InstantiateOptions())
	if err != nil {
		return err
	}
	defer inst.Close(context.Background())
	res, err := inst.CallJSON(cctx, tool.Func, json.RawMessage(*argsJSON))
	showGuestOutput(env, inst, wasiHost)
	showDenials(env, cg.Denials())
	if lerr := inst.MemoryLimitReached(); lerr != nil && err == nil {
		fmt.Fprintf(env.Stderr, "note: %v\n", lerr)
	}
	if err != nil {
		var ae *component.ArgumentError
		switch {
		case errors.As(err, &ae):
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("bad arguments for %s: %w", tool.Name, err)}
		case errors.Is(err, context.DeadlineExceeded):
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %s", tool.Name, limits.TimeoutMessage("raise it with --timeout"))}
		}
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %w", tool.Name, err)}
	}
	out := res.Structured
	if out == nil {
		out = json.RawMessage(`{"result":null}`)
	}
	return writeJSON(env.Stdout, out)
}

// loadCallPolicy reads --policy; without one the policy is empty. It
// returns the absolute path "always" answers are saved to.
func loadCallPolicy(file string) (*policy.Policy, string, error) {
	if file == "" {
		return policy.New(), "", nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, "", fmt.Errorf("--policy: %w", err)
	}
	pol, err := policy.Parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("--policy %s: %w", file, err)
	}
	return pol, abs, nil
}

// protected returns Tapedeck's own folders, which no component may touch
// whatever its policy says, as real paths (storage is decided on real paths).
func (e *Env) protected() (policy.Protected, error) {
	d, err := paths.Resolve(paths.Options{DataDir: e.DataDir, Getenv: e.Getenv})
	if err != nil {
		return policy.Protected{}, err
	}
	var real []string
	for _, p := range paths.Protected(d) {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if filepath.IsAbs(p) {
			real = append(real, p)
		}
	}
	prot, err := policy.NewProtected(real...)
	if err != nil {
		return policy.Protected{}, fmt.Errorf("Tapedeck's own folders: %w", err)
	}
	return prot, nil
}

// showDenials prints what the gate refused during the call, each with how
// to allow it, on stderr.
func showDenials(env *Env, denials []*access.DeniedError) {
	if len(denials) == 0 {
		return
	}
	fmt.Fprintln(env.Stderr, "Tapedeck refused these accesses during the call:")
	seen := map[string]bool{}
	for _, d := range denials {
		if s := d.Error(); !seen[s] {
			seen[s] = true
			fmt.Fprintf(env.Stderr, "- %s\n", s)
		}
	}
	fmt.Fprintln(env.Stderr, "For this call alone: add the rule to the --policy file, or run with --prompt ask and answer.")
}

// cacheDir returns the folder for compiled code, creating it.
func (e *Env) cacheDir() (string, error) {
	d, err := paths.Resolve(paths.Options{DataDir: e.DataDir, Getenv: e.Getenv})
	if err != nil {
		return "", err
	}
	dir := owner.CacheDir(d)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("compilation cache: %w", err)
	}
	return dir, nil
}
