// client-v2.mjs drives Tapedeck with the TypeScript SDK v2 client
// (@modelcontextprotocol/client), pinned to the 2026-07-28 protocol, as an
// editor on that protocol would: server/discover instead of initialize,
// list the built-in tools, load c-files, and read a file no policy allows.
// On 2026-07-28 the server may not send requests, so the question comes
// back as an input-required tool result (SEP-2322); the client answers it
// through its elicitation/create handler and retries the call itself.
// Accept lets that one read through; decline refuses it; the read after the
// yes is asked again (an answer through the editor allows once only).
//
// It prints one line per check, "ok   NAME" or "FAIL NAME: why", for
// scripts/test-mcp-clients.sh to count, and exits 1 when any check failed.
//
// Usage:
//   node client-v2.mjs stdio TAPEDECK DATA_DIR FILES.wasm   (runs `TAPEDECK --data-dir DATA_DIR mcp`)
//   node client-v2.mjs http URL TOKEN FILES.wasm            (Authorization: Bearer TOKEN)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { builtins, reporter, textOf, transportFor } from "./checks.mjs";

const protocol = "2026-07-28";

// A bound on every request, so a server that never answers fails the check
// instead of hanging the run.
const waitMs = 30_000;

const [mode, target, secret, filesPath] = process.argv.slice(2);
if (!["stdio", "http"].includes(mode) || !target || !secret || !filesPath) {
  console.error("usage: node client-v2.mjs stdio TAPEDECK DATA_DIR FILES.wasm | http URL TOKEN FILES.wasm");
  process.exit(2);
}
const label = `ts-sdk-v2/${mode}`;

const { check, failures } = reporter(label);

// The pin makes connect fail unless the server speaks 2026-07-28: no
// fallback to initialize. Input requests are fulfilled automatically (the
// SDK's default) through the elicitation/create handler below.
const client = new Client(
  { name: "tapedeck-test-ts-sdk-v2", version: "1.0.0" },
  { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: protocol } } },
);
// The person's answers through the editor: each question is recorded and
// answered with the next entry of answers.
const questions = [];
let answers = [];
client.setRequestHandler("elicitation/create", (req) => {
  questions.push(req.params);
  return answers.shift() ?? { action: "cancel" };
});
const opts = { timeout: waitMs };

// What came over the wire, to tell an input request from an
// elicitation/create request the server sent (which 2026-07-28 forbids;
// the client would drop it and the call would never end).
const wire = { inputRequired: [], serverRequests: [] };
function watch(transport) {
  const deliver = transport.onmessage;
  transport.onmessage = (msg, extra) => {
    if (msg.result?.resultType === "input_required") wire.inputRequired.push(msg.result);
    if (msg.method && msg.id !== undefined) wire.serverRequests.push(msg.method);
    deliver?.(msg, extra);
  };
}

const connected = await check(`discover ${protocol}`, async () => {
  const transport = transportFor(mode, target, secret, { StdioClientTransport, StreamableHTTPClientTransport });
  await client.connect(transport, opts);
  watch(transport);
  const version = client.getNegotiatedProtocolVersion();
  if (version !== protocol) return `negotiated ${version}, want ${protocol}`;
  if (client.getProtocolEra() !== "modern") return `protocol era ${client.getProtocolEra()}, want modern`;
  const info = client.getServerVersion();
  if (info?.name !== "tapedeck") return `server calls itself ${JSON.stringify(info)}, want name "tapedeck"`;
});

if (connected) {
  await check("tools/list-builtins", async () => {
    const { tools } = await client.listTools(undefined, opts);
    const names = tools.map((t) => t.name);
    const missing = builtins.filter((b) => !names.includes(b));
    if (missing.length) return `missing ${missing.join(", ")} (got ${names.join(", ")})`;
  });

  const dir = mkdtempSync(join(tmpdir(), "tapedeck-ts-sdk-v2-"));
  const file = join(dir, "secret.txt");
  writeFileSync(file, "only with a yes");
  const read = () => client.callTool({ name: "read-file", arguments: { path: file } }, opts);

  const loaded = await check("load-component c-files", async () => {
    const res = await client.callTool({ name: "load-component", arguments: { path: filesPath } }, opts);
    if (res.isError) return `load refused: ${textOf(res)}`;
    if (res.structuredContent?.id !== "c-files") return `load result ${JSON.stringify(res.structuredContent)}, want id c-files`;
  });
  if (loaded) {
    await check("input-request-accept", async () => {
      answers = [{ action: "accept", content: { allow: true } }];
      const res = await read();
      const text = textOf(res);
      if (questions.length !== 1) return `asked ${questions.length} times, want once`;
      const q = questions[0];
      if (!q.message?.includes(file)) return `the question does not name the file: ${JSON.stringify(q)}`;
      const asked = wire.inputRequired[0];
      if (wire.inputRequired.length !== 1 || Object.keys(asked.inputRequests ?? {}).length !== 1 || !asked.requestState)
        return `want one input_required result with one input request and a requestState, got ${JSON.stringify(wire.inputRequired)}`;
      if (wire.serverRequests.length) return `the server sent requests: ${wire.serverRequests.join(", ")}`;
      if (q.requestedSchema?.properties?.allow?.type !== "boolean")
        return `the question's form has no boolean "allow": ${JSON.stringify(q.requestedSchema)}`;
      if (res.isError || !text.includes("only with a yes")) return `read-file after accept: ${text}`;
    });
    await check("input-request-decline", async () => {
      answers = [{ action: "decline" }];
      const res = await read();
      const text = textOf(res);
      if (questions.length !== 2) return `asked ${questions.length} times in all, want twice: an accept allows once`;
      // c-files reports a failed open in its result rather than as a tool
      // error; Tapedeck adds why it refused.
      const err = res.structuredContent?.result?.err ?? "";
      if (text.includes("only with a yes") || !err.includes("Permission denied") || !text.includes("the person answered deny"))
        return `read-file after decline: ${JSON.stringify(res)}`;
    });
    await check("input-request-asks-again", async () => {
      answers = [{ action: "accept", content: { allow: true } }];
      const res = await read();
      const text = textOf(res);
      if (questions.length !== 3) return `asked ${questions.length} times in all, want three: no answer is kept`;
      if (wire.inputRequired.length !== 3) return `${wire.inputRequired.length} input_required results in all, want three`;
      if (wire.serverRequests.length) return `the server sent requests: ${wire.serverRequests.join(", ")}`;
      if (res.isError || !text.includes("only with a yes")) return `read-file after the second accept: ${text}`;
    });
  }
}

await client.close().catch(() => {});
process.exit(failures() ? 1 : 0);
