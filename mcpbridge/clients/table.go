package clients

// The table of MCP clients. Each row is data: where the client keeps its
// user-level MCP config on each OS, the file's format, where the servers live
// in it and what a stdio entry looks like. Facts come from
// ../../../shared/design/EDITORS.md, checked against each client's docs
// (sources per row) in November 2026.
//
// Path patterns: "~" is the home folder; {config} is the OS's per-user config
// folder (~/Library/Application Support, %APPDATA%, $XDG_CONFIG_HOME or
// ~/.config); {xdg} is $XDG_CONFIG_HOME or ~/.config on every OS (tools that
// follow XDG even on macOS and Windows); {appdata} and {localappdata} are the
// Windows folders; {env} is the value of Path.Env. A "*" is a glob.

var table = []Client{
	{
		// https://modelcontextprotocol.io/quickstart/user; the Microsoft Store
		// (MSIX) build virtualises %APPDATA% under its package folder.
		Name: "claude-desktop", DisplayName: "Claude Desktop",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Restart: true,
		Paths: []Path{
			{GOOS: "windows", Pattern: "{localappdata}/Packages/Claude_*/LocalCache/Roaming/Claude/claude_desktop_config.json"},
			{Pattern: "{config}/Claude/claude_desktop_config.json"},
		},
	},
	{
		// https://docs.claude.com/en/docs/claude-code/mcp (user scope lives in
		// ~/.claude.json, or in $CLAUDE_CONFIG_DIR/.claude.json). Claude Code
		// rewrites this file itself while it runs, so equality is by content,
		// and its own CLI does the edit where it is installed.
		Name: "claude-code", DisplayName: "Claude Code",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryTypedStdio,
		Restart: true, RewritesOwnFile: true,
		CLI: &ClientCLI{
			Command: "claude",
			Add:     []string{"mcp", "add-json", EntryKey, "{entry}", "--scope", "user"},
			Remove:  []string{"mcp", "remove", EntryKey, "--scope", "user"},
		},
		Paths: []Path{
			{Env: "CLAUDE_CONFIG_DIR", Pattern: "{env}/.claude.json"},
			{Pattern: "~/.claude.json", Marker: "~/.claude"},
		},
	},
	{
		// https://code.visualstudio.com/docs/copilot/customization/mcp-servers:
		// user mcp.json per profile; the default profile's is User/mcp.json.
		Name: "vscode", DisplayName: "VS Code",
		Format: FormatJSONC, Servers: []string{"servers"}, Entry: EntryTypedStdio,
		Paths: []Path{{Pattern: "{config}/Code/User/mcp.json"}},
		Also:  []Path{{Pattern: "{config}/Code/User/profiles/*/mcp.json"}},
	},
	{
		Name: "vscode-insiders", DisplayName: "VS Code Insiders",
		Format: FormatJSONC, Servers: []string{"servers"}, Entry: EntryTypedStdio,
		Paths: []Path{{Pattern: "{config}/Code - Insiders/User/mcp.json"}},
		Also:  []Path{{Pattern: "{config}/Code - Insiders/User/profiles/*/mcp.json"}},
	},
	{
		// https://cursor.com/docs/context/mcp
		Name: "cursor", DisplayName: "Cursor",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Paths: []Path{{Pattern: "~/.cursor/mcp.json"}},
	},
	{
		// https://docs.windsurf.com/windsurf/cascade/mcp; newer builds read
		// ~/.config/devin/mcp_config.json, so both are kept in step.
		Name: "windsurf", DisplayName: "Windsurf",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Restart: true,
		Paths: []Path{
			{Pattern: "~/.codeium/windsurf/mcp_config.json"},
			{Pattern: "{xdg}/devin/mcp_config.json"},
		},
		Also: []Path{
			{Pattern: "~/.codeium/windsurf/mcp_config.json"},
			{Pattern: "{xdg}/devin/mcp_config.json"},
		},
	},
	{
		// https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md.
		// Gemini CLI migrates and reformats settings.json when it starts
		// (seen with 0.61.0 in scripts/test-editor-clis.sh).
		Name: "gemini-cli", DisplayName: "Gemini CLI",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Restart: true, RewritesOwnFile: true,
		Paths: []Path{{Pattern: "~/.gemini/settings.json"}},
	},
	{
		// https://zed.dev/docs/ai/mcp: settings.json is JSONC and reloads live.
		Name: "zed", DisplayName: "Zed",
		Format: FormatJSONC, Servers: []string{"context_servers"}, Entry: EntryCommandArgs,
		Paths: []Path{
			{GOOS: "windows", Pattern: "{appdata}/Zed/settings.json"},
			{Pattern: "{xdg}/zed/settings.json"},
		},
	},
	{
		// https://github.com/openai/codex/blob/main/docs/config.md#mcp_servers
		Name: "codex", DisplayName: "Codex CLI",
		Format: FormatTOML, Servers: []string{"mcp_servers"}, Entry: EntryCommandArgs,
		Restart: true,
		Paths: []Path{
			{Env: "CODEX_HOME", Pattern: "{env}/config.toml"},
			{Pattern: "~/.codex/config.toml"},
		},
	},
	{
		// https://docs.cline.bot/mcp/configuring-mcp-servers
		Name: "cline", DisplayName: "Cline",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Paths: []Path{{
			Pattern: "{config}/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
			Marker:  "{config}/Code/User/globalStorage/saoudrizwan.claude-dev",
		}},
	},
	{
		// https://docs.continue.dev/reference#mcpservers: a YAML list of
		// {name, type, command, args}.
		Name: "continue", DisplayName: "Continue",
		Format: FormatYAML, Servers: []string{"mcpServers"}, Entry: EntryContinue,
		Paths: []Path{{Pattern: "~/.continue/config.yaml"}},
	},
	{
		// https://block.github.io/goose/docs/guides/config-files: extensions
		// is a map of name to a flat extension config.
		Name: "goose", DisplayName: "Goose",
		Format: FormatYAML, Servers: []string{"extensions"}, Entry: EntryGoose,
		Restart: true,
		Paths: []Path{
			{GOOS: "windows", Pattern: "{appdata}/Block/goose/config/config.yaml"},
			{Pattern: "{xdg}/goose/config.yaml"},
		},
	},
	{
		// https://lmstudio.ai/docs/app/mcp: Cursor's notation.
		Name: "lm-studio", DisplayName: "LM Studio",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Paths: []Path{{Pattern: "~/.lmstudio/mcp.json"}},
	},
	{
		// https://www.jetbrains.com/help/junie/model-context-protocol-mcp.html
		Name: "junie", DisplayName: "Junie",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Restart: true,
		Paths:   []Path{{Pattern: "~/.junie/mcp/mcp.json", Marker: "~/.junie"}},
	},
	{
		// https://opencode.ai/docs/mcp-servers: "mcp" map, local servers take
		// the command and its arguments as one array.
		Name: "opencode", DisplayName: "opencode",
		Format: FormatJSONC, Servers: []string{"mcp"}, Entry: EntryOpencode,
		Restart: true,
		Paths: []Path{
			{Pattern: "{xdg}/opencode/opencode.jsonc", OnlyIfExists: true},
			{Pattern: "{xdg}/opencode/opencode.json"},
		},
	},
	{
		// https://docs.github.com/en/copilot/how-tos/use-copilot-agents/use-copilot-cli
		// (~/.copilot/mcp-config.json; $COPILOT_HOME moves the folder).
		Name: "copilot-cli", DisplayName: "GitHub Copilot CLI",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCopilot,
		Restart: true,
		Paths: []Path{
			{Env: "COPILOT_HOME", Pattern: "{env}/mcp-config.json"},
			{Pattern: "~/.copilot/mcp-config.json"},
		},
	},
	{
		// https://docs.aws.amazon.com/amazonq/latest/qdeveloper-ug/command-line-mcp-configuration.html:
		// the global mcp.json is read by the default agent.
		Name: "amazon-q", DisplayName: "Amazon Q Developer CLI",
		Format: FormatJSON, Servers: []string{"mcpServers"}, Entry: EntryCommandArgs,
		Restart: true,
		Paths:   []Path{{Pattern: "~/.aws/amazonq/mcp.json"}},
	},
}
