// sessionctl e2e: record OpenClaw lifecycle hooks.
//
// Every hook call below is appended as one JSON line
//   {"hook", "ts", "pid", "event", "ctx"}
// to the file named by $SESSION_RECORDER_LOG, synchronously (appendFileSync), so a
// SIGKILL right after a hook cannot lose it. Plain ESM without imports from openclaw,
// so it loads from any directory on 2026.7 and 2026.9 alike.
import { appendFileSync } from "node:fs";

const HOOKS = [
  "gateway_start",
  "gateway_stop",
  "session_start",
  "session_end",
  "agent_end",
  "before_reset",
];

// JSON of a hook argument: the config object and message arrays are summarised (they are
// large and may hold secrets), cycles, functions and bigints are made printable.
function safeJson(value) {
  const seen = new WeakSet();
  return JSON.stringify(value, function (key, v) {
    if (key === "config" && v && typeof v === "object") return "[config omitted]";
    if (key === "messages" && Array.isArray(v)) return `[${v.length} messages]`;
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "function") return undefined;
    if (v && typeof v === "object") {
      if (seen.has(v)) return "[circular]";
      seen.add(v);
    }
    return v;
  });
}

function record(hook, event, ctx) {
  const file = process.env.SESSION_RECORDER_LOG;
  if (!file) return;
  let line;
  try {
    line = `{"hook":${JSON.stringify(hook)},"ts":${JSON.stringify(new Date().toISOString())},"pid":${process.pid},"event":${safeJson(event) ?? "null"},"ctx":${safeJson(ctx) ?? "null"}}`;
  } catch (err) {
    line = JSON.stringify({ hook, ts: new Date().toISOString(), pid: process.pid, error: String(err) });
  }
  try {
    appendFileSync(file, line + "\n");
  } catch {
    // never break the gateway over a test log
  }
}

export default {
  id: "session-recorder",
  name: "Session recorder (sessionctl e2e)",
  description: "Appends every lifecycle hook call to $SESSION_RECORDER_LOG",
  register(api) {
    for (const hook of HOOKS) {
      api.on(hook, (event, ctx) => {
        record(hook, event, ctx);
      });
    }
  },
};
