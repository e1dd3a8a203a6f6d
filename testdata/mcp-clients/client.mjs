// client.mjs drives Tapedeck with the official TypeScript SDK client, as an
// editor built on that SDK would: initialize, list the built-in tools, load
// a component, see tools/list_changed, call one of its tools, be refused an
// agent's grant (Tapedeck runs headless here), unload. Given the c-files
// component too, it is asked through the editor (elicitation/create: this
// SDK speaks 2025-11-25 at most and knows no input requests) about a file
// read: yes lets that one read through, decline refuses the next.
//
// It prints one line per check, "ok   NAME" or "FAIL NAME: why", for
// scripts/test-mcp-clients.sh to count, and exits 1 when any check failed.
//
// Usage:
//   node client.mjs stdio TAPEDECK DATA_DIR COMPONENT.wasm [FILES.wasm]   (runs `TAPEDECK --data-dir DATA_DIR mcp`)
//   node client.mjs http URL TOKEN COMPONENT.wasm [FILES.wasm]            (Authorization: Bearer TOKEN)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { builtins, reporter, textOf, transportFor } from "./checks.mjs";

// A bound on every wait, so a server that never answers fails the check
// instead of hanging the run; the SDK's own request timeout is the same.
const waitMs = 30_000;

const [mode, target, secret, componentPath, filesPath] = process.argv.slice(2);
if (!["stdio", "http"].includes(mode) || !target || !secret || !componentPath) {
  console.error("usage: node client.mjs stdio TAPEDECK DATA_DIR COMPONENT | http URL TOKEN COMPONENT");
  process.exit(2);
}
const label = `ts-sdk/${mode}`;

const { check, failures } = reporter(label);

function withTimeout(promise, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${waitMs / 1000}s`)), waitMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const client = new Client({ name: "tapedeck-test-ts-sdk", version: "1.0.0" }, { capabilities: { elicitation: { form: {} } } });
// The person's answers through the editor: each question is recorded and
// answered with the next entry of answers.
const questions = [];
let answers = [];
client.setRequestHandler(ElicitRequestSchema, (req) => {
  questions.push(req.params.message);
  return answers.shift() ?? { action: "cancel" };
});
let listChanged = 0;
let onListChanged = () => {};
client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
  listChanged++;
  onListChanged();
});
const opts = { timeout: waitMs };

const connected = await check("initialize", async () => {
  const transport = transportFor(mode, target, secret, { StdioClientTransport, StreamableHTTPClientTransport });
  await withTimeout(client.connect(transport, opts), "initialize result");
  const info = client.getServerVersion();
  if (info?.name !== "tapedeck") return `server calls itself ${JSON.stringify(info)}, want name "tapedeck"`;
  if (!client.getServerCapabilities()?.tools?.listChanged) return "tools.listChanged capability not advertised";
});

if (connected) {
  await check("tools/list-builtins", async () => {
    const { tools } = await client.listTools({}, opts);
    const names = tools.map((t) => t.name);
    const missing = builtins.filter((b) => !names.includes(b));
    if (missing.length) return `missing ${missing.join(", ")} (got ${names.join(", ")})`;
    if (names.includes("add")) return "add listed before any component was loaded";
  });

  await check("load-component+list_changed", async () => {
    const seen = listChanged;
    const changed = new Promise((resolve) => {
      onListChanged = () => listChanged > seen && resolve();
    });
    const res = await client.callTool({ name: "load-component", arguments: { path: componentPath } }, undefined, opts);
    if (res.isError) return `load refused: ${textOf(res)}`;
    if (res.structuredContent?.id !== "c-tool") return `load result ${JSON.stringify(res.structuredContent)}, want id c-tool`;
    await withTimeout(changed, "notifications/tools/list_changed after the load");
    const { tools } = await client.listTools({}, opts);
    if (!tools.some((t) => t.name === "add")) return "add not in tools/list after the load";
  });

  await check("call-add", async () => {
    const res = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }, undefined, opts);
    if (res.isError) return `add failed: ${textOf(res)}`;
    if (res.structuredContent?.result !== 5) return `structuredContent ${JSON.stringify(res.structuredContent)}, want {"result":5}`;
    if (textOf(res).trim() !== "5") return `text copy ${JSON.stringify(textOf(res))}, want "5"`;
  });

  await check("grant-refused-headless", async () => {
    const res = await client.callTool(
      { name: "grant-network-permission", arguments: { component_id: "c-tool", details: { host: "example.com" } } },
      undefined,
      opts,
    );
    const text = textOf(res);
    if (!res.isError) return `an agent's grant went through headless: ${text}`;
    if (!text.includes("tapedeck permission grant network c-tool example.com"))
      return `the refusal does not say how to grant from the CLI: ${text}`;
  });

  if (filesPath) {
    const dir = mkdtempSync(join(tmpdir(), "tapedeck-ts-sdk-"));
    const file = join(dir, "secret.txt");
    writeFileSync(file, "only with a yes");
    const loaded = await check("load-component c-files", async () => {
      const res = await client.callTool({ name: "load-component", arguments: { path: filesPath } }, undefined, opts);
      if (res.isError) return `load refused: ${textOf(res)}`;
    });
    if (loaded) {
      await check("asked-through-editor-yes", async () => {
        answers = [{ action: "accept", content: { allow: true } }];
        const res = await client.callTool({ name: "read-file", arguments: { path: file } }, undefined, opts);
        const text = textOf(res);
        if (questions.length !== 1) return `asked ${questions.length} times, want once`;
        if (!questions[0].includes(file)) return `the question does not name the file: ${questions[0]}`;
        if (res.isError || !text.includes("only with a yes")) return `read-file after yes: ${text}`;
      });
      await check("asked-through-editor-declined", async () => {
        answers = [{ action: "decline" }];
        const res = await client.callTool({ name: "read-file", arguments: { path: file } }, undefined, opts);
        const text = textOf(res);
        if (questions.length !== 2) return `asked ${questions.length} times in all, want twice: a yes allows once`;
        if (text.includes("only with a yes") || !text.includes("the person answered deny"))
          return `read-file after decline: ${text}`;
      });
    }
  }

  await check("unload-component", async () => {
    const seen = listChanged;
    const changed = new Promise((resolve) => {
      onListChanged = () => listChanged > seen && resolve();
    });
    const res = await client.callTool({ name: "unload-component", arguments: { id: "c-tool" } }, undefined, opts);
    if (res.isError) return `unload failed: ${textOf(res)}`;
    await withTimeout(changed, "notifications/tools/list_changed after the unload");
    const { tools } = await client.listTools({}, opts);
    if (tools.some((t) => t.name === "add")) return "add still listed after the unload";
  });
}

await client.close().catch(() => {});
process.exit(failures() ? 1 : 0);
