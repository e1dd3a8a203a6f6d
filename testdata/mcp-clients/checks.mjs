// checks.mjs is what client.mjs and client-v2.mjs share: the built-in tool
// names, the one-line-per-check report scripts/test-mcp-clients.sh counts,
// the transport to Tapedeck, and the text of a tool result.

// builtins are Wassette's built-in tool names, which Tapedeck keeps
// (WASSETTE-COMPAT.md).
export const builtins = [
  "load-component",
  "unload-component",
  "list-components",
  "search-components",
  "get-policy",
  "grant-storage-permission",
  "grant-network-permission",
  "grant-environment-variable-permission",
  "revoke-storage-permission",
  "revoke-network-permission",
  "revoke-environment-variable-permission",
  "reset-permission",
];

// reporter returns check, which runs one step and prints "ok   LABEL NAME"
// or "FAIL LABEL NAME: why" (a step fails by returning why, or by throwing),
// and failures, the count of failed checks so far.
export function reporter(label) {
  let failed = 0;
  const fail = (name, why) => {
    console.log(`FAIL ${label} ${name}: ${why}`);
    failed++;
    return false;
  };
  async function check(name, step) {
    try {
      const problem = await step();
      if (problem) return fail(name, problem);
      console.log(`ok   ${label} ${name}`);
      return true;
    } catch (err) {
      return fail(name, err?.message ?? String(err));
    }
  }
  return { check, failures: () => failed };
}

// transportFor returns the transport to Tapedeck, made with the SDK's own
// classes (both generations take the same options): over stdio it runs
// `TAPEDECK --data-dir DATA_DIR mcp` (target, secret), over HTTP it posts to
// URL with the bearer token (target, secret).
export function transportFor(mode, target, secret, { StdioClientTransport, StreamableHTTPClientTransport }) {
  if (mode === "stdio") {
    return new StdioClientTransport({
      command: target,
      args: ["--data-dir", secret, "mcp"],
      // The SDK passes only a few variables through by default; HOME and
      // PATH are what the relay and the owner it starts need.
      env: { HOME: process.env.HOME, PATH: process.env.PATH },
      stderr: "inherit",
    });
  }
  return new StreamableHTTPClientTransport(new URL(target), {
    requestInit: { headers: { Authorization: `Bearer ${secret}` } },
  });
}

// textOf joins the text blocks of a tool result.
export function textOf(result) {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}
