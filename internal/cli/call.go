package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tapedeck.dev/tapedeck/internal/atomicfile"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/policy"
	"tapedeck.dev/tapedeck/sandbox/store"
)

const callArgs = "FILE.wasm TOOL [--args JSON] [--policy policy.yaml] [--secret KEY=VALUE]... [--prompt deny|allow|ask] [--timeout DURATION]"

var callCmd = &Command{
	Name:  "call",
	Args:  callArgs,
	Short: "call one tool of a component once, under a policy",
	Long: `Loads the component, calls TOOL with the JSON object --args (default {}) and
prints {"result": …}. The call takes the path a served call takes, through
the same sandbox, limits and messages, but nothing is installed: the
component lives in a throwaway folder for the length of the command, and the
data folder gets only compiled code in its cache. A running Tapedeck is
neither needed nor disturbed.

The component runs under the policy file --policy (Wassette's policy.yaml);
without one nothing is allowed: no files, no network, an empty environment.
What the policy leaves open is settled by --prompt: deny (the default)
refuses it, allow allows it once, ask asks on the terminal (y: allow once,
a: allow always and save the rule into the --policy file, n: deny, N:
always deny and save that).

The environment holds only the variables the policy allows, each from
--secret KEY=VALUE if given (kept in memory only), else from this process's
environment. resources.limits.memory caps the component's memory; --timeout
stops the call.

What the component writes to stdout and stderr is shown on stderr, and so is
every access that was refused, with the command that would allow it. Exit
status 1 (with the reason on stderr) when the tool traps, runs out of time or
memory, or the arguments do not fit its parameters.`,
	Run: runCall,
}

// callClient is who a `tapedeck call` is to the Host: the person's own
// command.
var callClient = sandbox.Client{Name: "tapedeck call", Transport: "cli"}

// callPolicyAdvice follows the accesses a call refused.
const callPolicyAdvice = "For this call alone: add the rule to the --policy file, or run with --prompt ask and answer."

// secretFlags collects repeated --secret KEY=VALUE flags. It is also the
// call's sandbox.SecretStore: one component's secrets, in memory only —
// never in the keychain, never on disk.
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

// Get implements sandbox.SecretStore.
func (s secretFlags) Get(_, key string) (string, error) {
	if v, ok := s[key]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no --secret %s was given", key)
}

// List implements sandbox.SecretStore.
func (s secretFlags) List(string) ([]string, error) { return slices.Sorted(maps.Keys(s)), nil }

// DeleteAll implements sandbox.SecretStore.
func (s secretFlags) DeleteAll(string) error {
	clear(s)
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
	if *timeout < 0 {
		return UsageError("--timeout must not be negative, got %s", *timeout)
	}
	prompter, err := prompterFor(*promptMode, env)
	if err != nil {
		return err
	}
	file, toolName := pos[0], pos[1]
	pol, policyText, policyPath, err := loadCallPolicy(*policyFile)
	if err != nil {
		return err
	}
	for _, w := range sandbox.LimitsFromPolicy(pol, sandbox.LimitOverrides{}).Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	wasm, err := os.ReadFile(file)
	if err != nil {
		return err
	}

	ch, err := openCallHost(ctx, env, prompter, secrets, pol)
	if err != nil {
		return err
	}
	defer ch.close()
	info, err := ch.load(ctx, file, wasm, policyText, *timeout)
	if err != nil {
		return err
	}
	tool, err := findTool(file, info.Tools, toolName)
	if err != nil {
		return err
	}
	res, err := ch.host.Call(ctx, sandbox.CallRequest{Tool: tool.Name, Args: json.RawMessage(*argsJSON), Client: callClient})
	if err != nil {
		return err
	}
	if policyPath != "" {
		if err := ch.saveAnswers(info.ID, policyText, policyPath); err != nil {
			fmt.Fprintf(env.Stderr, "warning: the \"always\" answers were not saved into %s: %v; add their rules to it yourself\n", policyPath, err)
		}
	}
	return printCallResult(env, tool.Name, res)
}

// loadCallPolicy reads --policy; without one the policy is empty and its
// text nil. It returns the absolute path "always" answers are saved to.
func loadCallPolicy(file string) (pol *policy.Policy, text []byte, path string, err error) {
	if file == "" {
		return policy.New(), nil, "", nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, nil, "", err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, nil, "", fmt.Errorf("--policy: %w", err)
	}
	pol, err = policy.Parse(data)
	if err != nil {
		return nil, nil, "", fmt.Errorf("--policy %s: %w", file, err)
	}
	return pol, data, abs, nil
}

// callHost is the sandbox Host of one `tapedeck call`. Its component
// folder is a throwaway one that close removes, so the call installs
// nothing, writes nothing to the data dir but compiled code to the shared
// cache, and takes no owner lock: a running owner is neither needed nor
// disturbed.
type callHost struct {
	host *sandbox.Host
	dir  string // the throwaway folder
}

func openCallHost(ctx context.Context, env *Env, prompter sandbox.Prompter, secrets secretFlags, pol *policy.Policy) (*callHost, error) {
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return nil, err
	}
	cacheDir := owner.CacheDir(dirs)
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("compilation cache: %w", err)
	}
	dir, err := os.MkdirTemp("", "tapedeck-call-")
	if err != nil {
		return nil, fmt.Errorf("a folder for the call: %w", err)
	}
	host, err := sandbox.New(ctx, sandbox.Options{
		Dir:      filepath.Join(dir, "components"),
		CacheDir: cacheDir,
		// The throwaway folder is Tapedeck's own as well: the policy there
		// is copied back into the --policy file, so a component granted the
		// temp folder must not be able to write it.
		Protected:   append(paths.Protected(dirs), dir),
		Secrets:     secrets,
		Prompter:    prompter,
		Env:         callEnvironment(env, pol),
		TimeoutHint: "raise it with --timeout",
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &callHost{host: host, dir: dir}, nil
}

func (c *callHost) close() {
	c.host.Close(context.Background())
	os.RemoveAll(c.dir)
}

// load installs the component file (its bytes wasm) under the --policy
// file's text (nil: no policy) and sets the call timeout. The Host loads a
// copy from a folder of its own, beside the policy as the person's trusted
// choice, so that a policy.yaml lying beside the file is never taken
// instead and no one is asked to approve the person's own policy.
func (c *callHost) load(ctx context.Context, file string, wasm, policyText []byte, timeout time.Duration) (sandbox.ComponentInfo, error) {
	id, err := store.IDFromURI(file)
	if err != nil {
		id = "component" // the id names only the throwaway copy
	}
	src := filepath.Join(c.dir, "source")
	copyPath := filepath.Join(src, id+".wasm")
	if err := os.Mkdir(src, 0o700); err != nil {
		return sandbox.ComponentInfo{}, err
	}
	if err := os.WriteFile(copyPath, wasm, 0o600); err != nil {
		return sandbox.ComponentInfo{}, err
	}
	if policyText != nil {
		if err := os.WriteFile(filepath.Join(src, "policy.yaml"), policyText, 0o600); err != nil {
			return sandbox.ComponentInfo{}, err
		}
	}
	res, err := c.host.Load(ctx, copyPath, sandbox.LoadOptions{Client: callClient, TrustBundledPolicy: true})
	if err != nil {
		// The Host names the copy; the person knows the file.
		return sandbox.ComponentInfo{}, errors.New(strings.ReplaceAll(err.Error(), copyPath, file))
	}
	if err := c.host.SetSettings(ctx, id, store.Settings{CallTimeout: timeout}, callClient); err != nil {
		return sandbox.ComponentInfo{}, err
	}
	return res.Component, nil
}

// saveAnswers copies the policy as the call left it into the --policy file
// (whose text was before) when "always" answers changed it: the Host saved
// them in the throwaway folder.
func (c *callHost) saveAnswers(id string, before []byte, path string) error {
	info, err := c.host.Policy(id)
	if err != nil {
		return err
	}
	if info.YAML == string(before) {
		return nil
	}
	return atomicfile.WriteFile(path, []byte(info.YAML), 0o600)
}

// callEnvironment is the Host's last source of values for the variables
// the policy allows: this process's environment, read through env so tests
// give their own. The Host shows a component only the keys its policy
// allows.
func callEnvironment(env *Env, pol *policy.Policy) map[string]string {
	out := map[string]string{}
	add := func(k string) {
		if v := env.getenv(k); v != "" {
			out[k] = v
		}
	}
	for _, kv := range os.Environ() {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			add(k)
		}
	}
	for _, rule := range pol.Permissions().Environment.Allow {
		add(rule.Key)
	}
	return out
}

// findTool returns the tool called name, by its tool name or its export
// path joined with "#".
func findTool(file string, tools []sandbox.ToolInfo, name string) (sandbox.ToolInfo, error) {
	var names []string
	for _, t := range tools {
		if t.Name == name || strings.Join(t.Export, "#") == name {
			if t.Unavailable != "" {
				return t, &ExitError{Code: ExitFailure, Err: fmt.Errorf("tool %s cannot be called with JSON: %s", t.Name, t.Unavailable)}
			}
			return t, nil
		}
		names = append(names, t.Name)
	}
	return sandbox.ToolInfo{}, &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s has no tool %q; its tools: %s", file, name, strings.Join(names, ", "))}
}

// printCallResult shows a call's result: the JSON result on stdout; what
// the guest printed, the accesses refused and the Host's notes on stderr;
// a failure as the error, with exit status 1.
func printCallResult(env *Env, tool string, res *sandbox.CallResult) error {
	showGuestOutput(env, res.Stdout, res.Stderr)
	if res.IsError {
		// The Host's text names the refused accesses already.
		msg := res.Text
		if len(res.Denied) > 0 {
			msg += "\n" + callPolicyAdvice
		}
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %s", tool, msg)}
	}
	if len(res.Denied) > 0 {
		fmt.Fprintln(env.Stderr, "Tapedeck refused these accesses during the call:")
		for _, d := range res.Denied {
			fmt.Fprintf(env.Stderr, "- %s\n", d)
		}
		fmt.Fprintln(env.Stderr, callPolicyAdvice)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(env.Stderr, "note: %s\n", n)
	}
	out := res.Structured
	if out == nil {
		out = json.RawMessage(`{"result":null}`)
	}
	return writeJSON(env.Stdout, out)
}

// showGuestOutput copies what the guest printed to stderr, each line
// marked, so it never mixes with the JSON result on stdout.
func showGuestOutput(env *Env, stdout, stderr string) {
	for _, s := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
		if s.text == "" {
			continue
		}
		for _, line := range strings.Split(strings.TrimRight(s.text, "\n"), "\n") {
			fmt.Fprintf(env.Stderr, "[guest %s] %s\n", s.name, line)
		}
	}
}
