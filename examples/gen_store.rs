//! Generate realistic session stores of a chosen size, for benchmarks and load tests.
//!
//! ```sh
//! cargo run --release --example gen_store -- --help
//! cargo run --release --example gen_store -- --out target/bench/stores \
//!     --openclaw-file 100000 --openclaw-sqlite 100000 --claude-mem 1000000 \
//!     --orphan-share 0.01 --agents 4
//! ```
//!
//! Under `--out DIR` it writes, for each store asked for:
//!
//! - `DIR/openclaw-file/` — an OpenClaw 2026.7 state dir: `agents/<agent>/sessions/sessions.json`
//!   (one JSON object keyed by session key, pretty-printed with 2 spaces as the gateway writes
//!   it). Entries are copies of the real captured 2026.7.35 entries
//!   (`bench/templates/file-2026.7.35-*.json`, from `../shared/fixtures/openclaw/`) with
//!   fresh ids and times: finished ones `done` (a few `failed`), with the real 736-byte
//!   `skillsSnapshot`, model, token and budget members; `--orphan-share` of them `running`,
//!   each with a `<sessionId>.jsonl.lock` naming its agent's crashed gateway (a pid that is not
//!   running, `createdAt` = now), as `kill -9` of a gateway leaves them.
//! - `DIR/openclaw-sqlite/` — an OpenClaw 2026.9 state dir: `agents/<agent>/agent/openclaw-agent.sqlite`
//!   with the exact DDL of the real 2026.9.6 store (`bench/schema/openclaw-agent-2026.9.6.sql`:
//!   `session_nodes`, `session_windows` and every other table, index and trigger of the
//!   capture), WAL mode, `schema_meta`/`session_key_contract` rows as the gateway writes them,
//!   and `entry_json` copied from the captured 2026.9.6 entries (7.7 KB `skillsSnapshot` with its
//!   skills prompt). The same share of rows is `running` (`lifecycleRunId` set, window
//!   `ended_at` NULL).
//! - `DIR/claude-mem/claude-mem.db` — claude-mem 13.25.3 (`bench/schema/claude-mem-13.25.3.sql`,
//!   the schema its worker created, FTS5 triggers included), WAL mode, with `sdk_sessions` rows
//!   and 1–3 `user_prompts` each. OpenClaw rows have content ids `openclaw-<key>-<13 digits>`
//!   and project `openclaw-<agent>`; their keys are the generated OpenClaw stores' keys (about
//!   N/M rows per key), so rows link to entries. `--orphan-share` of the rows are `active`;
//!   the rest `completed` (1 % `failed`). `--foreign-share` are Claude Code rows (UUID content
//!   ids) and `--observer-share` claude-mem's own `observer-sessions` rows; those that are
//!   active are not orphans (sessionctl reports them `unknown`).
//! - `<state>/openclaw.json` in both state dirs, naming every agent (so
//!   `openclaw sessions --all-agents` sees them all).
//! - `DIR/manifest.json` — what was written: counts, running/active rows, orphan candidates,
//!   the dead pids the locks name, sizes, the seed.
//!
//! No worker pid file, gateway lock or lease is written: the gateway and the worker are gone,
//! so every `running` entry and every active OpenClaw row is an orphan.
//!
//! The output is deterministic for a given `--seed` and `--now`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use rusqlite::{params, Connection};
use serde_json::{json, Map, Value};

const FILE_DONE: &str = include_str!("../bench/templates/file-2026.7.35-done.json");
const FILE_RUNNING: &str = include_str!("../bench/templates/file-2026.7.35-running.json");
const SQLITE_DONE: &str = include_str!("../bench/templates/sqlite-2026.9.6-done.json");
const SQLITE_RUNNING: &str = include_str!("../bench/templates/sqlite-2026.9.6-running.json");
const OPENCLAW_SCHEMA: &str = include_str!("../bench/schema/openclaw-agent-2026.9.6.sql");
const CLAUDE_MEM_SCHEMA: &str = include_str!("../bench/schema/claude-mem-13.25.3.sql");

const DAY_MS: i64 = 86_400_000;

/// Write realistic OpenClaw (file and SQLite) and claude-mem stores of a given size.
#[derive(Debug, Parser)]
#[command(name = "gen_store", max_term_width = 100)]
struct Opts {
    /// Directory to write into (created); each store gets its own subdirectory.
    #[arg(long, value_name = "DIR", default_value = "target/bench/stores")]
    out: PathBuf,

    /// Entries in the OpenClaw 2026.7 file store (sessions.json), across all agents.
    #[arg(long, value_name = "N", default_value_t = 0)]
    openclaw_file: usize,

    /// Rows in the OpenClaw 2026.9 SQLite store (session_nodes), across all agents.
    #[arg(long, value_name = "N", default_value_t = 0)]
    openclaw_sqlite: usize,

    /// sdk_sessions rows in the claude-mem database.
    #[arg(long, value_name = "N", default_value_t = 0)]
    claude_mem: usize,

    /// Share of OpenClaw entries left `running` and of claude-mem rows left `active`.
    #[arg(long, value_name = "SHARE", default_value_t = 0.01)]
    orphan_share: f64,

    /// Share of OpenClaw entries left `running` (default: --orphan-share).
    #[arg(long, value_name = "SHARE")]
    running_share: Option<f64>,

    /// Number of OpenClaw agents the entries are spread over (main, ops, support, …).
    #[arg(long, value_name = "N", default_value_t = 4)]
    agents: usize,

    /// Share of claude-mem rows that are Claude Code sessions (UUID content ids).
    #[arg(long, value_name = "SHARE", default_value_t = 0.05)]
    foreign_share: f64,

    /// Share of claude-mem rows in claude-mem's own `observer-sessions` project.
    #[arg(long, value_name = "SHARE", default_value_t = 0.001)]
    observer_share: f64,

    /// Average user_prompts per claude-mem row (1 to 3 each; 0 writes none).
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    prompts_per_session: f64,

    /// Keep the ~10 KB (2026.7) / ~5.6 KB (2026.9) `systemPromptReport` that real finished
    /// entries also carry (off by default: 100k file entries then make a 1.7 GB sessions.json).
    #[arg(long)]
    system_prompt_report: bool,

    /// Days of history the finished sessions are spread over.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    days: i64,

    /// "Now" in epoch ms (default: the clock). Running sessions were active minutes before it.
    #[arg(long, value_name = "MS")]
    now: Option<i64>,

    /// Seed of the pseudo-random ids and times.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Replace stores that already exist under --out.
    #[arg(long)]
    force: bool,
}

/// SplitMix64: small, fast, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Exactly `floor(n * share)` of `0..n` are picked, evenly spread.
fn picked(i: usize, share: f64) -> bool {
    let share = share.clamp(0.0, 1.0);
    ((i + 1) as f64 * share).floor() > (i as f64 * share).floor()
}

fn agent_name(a: usize) -> String {
    const NAMES: &[&str] = &["main", "ops", "support", "research", "sales", "devops"];
    NAMES
        .get(a)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("agent{}", a + 1))
}

/// The session key of entry `i`: `agent:<agent>:<channel>:<n>`, the shapes real keys have.
fn key_for(i: usize, agents: usize) -> (String, usize) {
    let a = i % agents.max(1);
    let n = i / agents.max(1);
    let agent = agent_name(a);
    let key = match n % 8 {
        0 if n == 0 => format!("agent:{agent}:main"),
        0 | 1 => format!("agent:{agent}:telegram:direct:{}", 100_000 + n),
        2 => format!(
            "agent:{agent}:discord:channel:{}",
            9_000_000_000u64 + n as u64
        ),
        3 => format!("agent:{agent}:slack:direct:u{:08}", n),
        4 => format!("agent:{agent}:cron:nightly-{n}"),
        5 => format!("agent:{agent}:whatsapp:direct:+1555{:07}", n),
        6 => format!("agent:{agent}:web:{n}"),
        _ => format!("agent:{agent}:subagent:task-{n}"),
    };
    (key, a)
}

/// ISO-8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it.
fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Replace the capture's path placeholders with paths of the generated state dir.
fn expand(template: &str, state: &Path) -> String {
    let state_s = state.display().to_string();
    let run = state
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| state_s.clone());
    template
        .replace("$STATE_DIR", &state_s)
        .replace("$RUN_DIR", &run)
        .replace("$HOME", "/home/openclaw")
        .replace("$OPENCLAW_PKG", "/usr/lib/node_modules/openclaw")
        .replace("$OPENCLAW_PREFIX", "/usr/lib")
        .replace("$NODE", "/usr/bin/node")
}

fn template(text: &str, state: &Path, keep_report: bool) -> Map<String, Value> {
    let Value::Object(mut m) =
        serde_json::from_str(&expand(text, state)).expect("template is JSON")
    else {
        panic!("template is not an object")
    };
    if !keep_report {
        m.shift_remove("systemPromptReport");
    }
    m
}

fn set(m: &mut Map<String, Value>, k: &str, v: Value) {
    if let Some(slot) = m.get_mut(k) {
        *slot = v;
    } else {
        m.insert(k.to_string(), v);
    }
}

/// A pid no process has now, below pid_max (what a crashed gateway leaves in its locks).
fn dead_pid(rng: &mut Rng, taken: &[i64]) -> i64 {
    let max = fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(32_768);
    loop {
        let pid = rng.range(max / 4, max - 1);
        if !taken.contains(&pid) && !Path::new(&format!("/proc/{pid}")).exists() {
            return pid;
        }
    }
}

/// /proc starttime ticks a gateway started "a while ago" would have had.
fn plausible_starttime(rng: &mut Rng) -> u64 {
    let uptime_s = fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(3600.0);
    let ticks = (uptime_s * 100.0) as i64;
    rng.range(ticks / 10, (ticks * 9 / 10).max(ticks / 10 + 1)) as u64
}

#[derive(Default, serde::Serialize)]
struct StoreReport {
    path: PathBuf,
    total: usize,
    running_or_active: usize,
    orphan_candidates: usize,
    bytes: u64,
    seconds: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dead_pids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_prompts: Option<usize>,
}

fn prepare_dir(dir: &Path, force: bool) -> Result<(), String> {
    if dir.exists() {
        if !force {
            return Err(format!(
                "{} exists; pass --force to replace it",
                dir.display()
            ));
        }
        fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn dir_bytes(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = fs::read_dir(p) {
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            n += if m.is_dir() {
                dir_bytes(&e.path())
            } else {
                m.len()
            };
        }
    }
    n
}

/// Times of entry `i` of `n`: finished sessions spread over the last `days`, running ones
/// active in the last minutes.
struct Times {
    started: i64,
    last: i64,
    ended: i64,
    updated: i64,
    created: i64,
}

fn times(rng: &mut Rng, i: usize, n: usize, now: i64, days: i64, running: bool) -> Times {
    if running {
        let started = now - rng.range(60_000, 20 * 60_000);
        let last = started + rng.range(0, 2_000);
        return Times {
            started,
            last,
            ended: 0,
            updated: last + rng.range(1, 500),
            created: started - rng.range(100, 60_000),
        };
    }
    let span = days * DAY_MS;
    let base = now - span + (span as f64 * i as f64 / n.max(1) as f64) as i64;
    let started = base - rng.range(0, 3_600_000);
    let runtime = rng.range(400, 600_000);
    let last = started + runtime - rng.range(0, 300);
    Times {
        started,
        last,
        ended: started + runtime,
        updated: started + runtime + rng.range(1, 50),
        created: started - rng.range(100, 7 * DAY_MS),
    }
}

fn gen_openclaw_file(o: &Opts, now: i64, running_share: f64) -> Result<StoreReport, String> {
    let t0 = Instant::now();
    let state = o.out.join("openclaw-file");
    prepare_dir(&state, o.force)?;
    let state = fs::canonicalize(&state).map_err(|e| e.to_string())?;
    let mut rng = Rng(o.seed ^ 0x0f11e);
    let agents = o.agents.max(1);
    write_openclaw_config(&state, agents, false)?;
    let done_t = template(FILE_DONE, &state, o.system_prompt_report);
    let run_t = template(FILE_RUNNING, &state, false);
    let mut report = StoreReport {
        path: state.clone(),
        total: o.openclaw_file,
        ..StoreReport::default()
    };
    let mut pids = Vec::new();
    for _ in 0..agents {
        let p = dead_pid(&mut rng, &pids);
        pids.push(p);
    }
    let starttimes: Vec<u64> = (0..agents).map(|_| plausible_starttime(&mut rng)).collect();
    let mut writers = Vec::new();
    for a in 0..agents {
        let dir = state.join("agents").join(agent_name(a)).join("sessions");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let f = File::create(dir.join("sessions.json")).map_err(|e| e.to_string())?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        w.write_all(b"{").map_err(|e| e.to_string())?;
        writers.push((w, dir, true));
    }
    let lock_created = iso(now);
    let n = o.openclaw_file;
    for i in 0..n {
        let (key, a) = key_for(i, agents);
        // Each agent gets its share: pick over the entries numbered agent by agent.
        let running = picked(a * n.div_ceil(agents) + i / agents, running_share);
        let t = times(&mut rng, i, o.openclaw_file, now, o.days, running);
        let sid = rng.uuid();
        let dir = writers[a].1.clone();
        let mut e = if running {
            run_t.clone()
        } else {
            done_t.clone()
        };
        set(&mut e, "sessionId", json!(sid));
        set(&mut e, "updatedAt", json!(t.updated));
        set(&mut e, "sessionStartedAt", json!(t.started));
        set(&mut e, "lastInteractionAt", json!(t.last));
        set(
            &mut e,
            "sessionFile",
            json!(dir.join(format!("{sid}.jsonl")).display().to_string()),
        );
        set(&mut e, "startedAt", json!(t.started + rng.range(50, 700)));
        if running {
            report.running_or_active += 1;
            report.orphan_candidates += 1;
            let lock = json!({
                "pid": pids[a],
                "createdAt": lock_created,
                "maxHoldMs": 300000,
                "starttime": starttimes[a],
            });
            let text = serde_json::to_string_pretty(&lock).map_err(|e| e.to_string())? + "\n";
            fs::write(dir.join(format!("{sid}.jsonl.lock")), text).map_err(|e| e.to_string())?;
        } else {
            // A few finished runs failed, as the gateway records them.
            let failed = rng.chance(0.02);
            set(
                &mut e,
                "status",
                json!(if failed { "failed" } else { "done" }),
            );
            set(&mut e, "abortedLastRun", json!(failed));
            set(&mut e, "lastActivityAt", json!(t.last));
            set(&mut e, "endedAt", json!(t.ended));
            set(&mut e, "runtimeMs", json!(t.ended - t.started));
            let input = rng.range(10, 40_000);
            let output = rng.range(5, 4_000);
            set(&mut e, "inputTokens", json!(input));
            set(&mut e, "outputTokens", json!(output));
            set(&mut e, "totalTokens", json!(input + output));
            if let Some(Value::Object(cb)) = e.get_mut("contextBudgetStatus") {
                set(cb, "updatedAt", json!(t.ended - rng.range(10, 500)));
                set(cb, "sessionId", json!(sid));
            }
            if let Some(Value::Object(r)) = e.get_mut("systemPromptReport") {
                set(r, "sessionId", json!(sid));
                set(r, "sessionKey", json!(key));
                set(r, "generatedAt", json!(t.started + rng.range(10, 900)));
            }
        }
        let (w, _, first) = &mut writers[a];
        let body = serde_json::to_string_pretty(&Value::Object(e)).map_err(|e| e.to_string())?;
        let body = body.replace('\n', "\n  ");
        let sep = if *first { "\n  " } else { ",\n  " };
        *first = false;
        write!(
            w,
            "{sep}{}: {body}",
            serde_json::to_string(&key).map_err(|e| e.to_string())?
        )
        .map_err(|e| e.to_string())?;
    }
    for (mut w, _, first) in writers {
        w.write_all(if first { b"}" } else { b"\n}" })
            .map_err(|e| e.to_string())?;
        w.flush().map_err(|e| e.to_string())?;
    }
    report.dead_pids = pids;
    report.bytes = dir_bytes(&state);
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// `<state>/openclaw.json` naming every agent, so `openclaw sessions --all-agents` finds
/// them all: 2026.7 takes `agents.list`; 2026.9 wants the keyed `agents.entries` with an
/// explicit ownership (it migrates a 2026.7 list in memory, with notices).
fn write_openclaw_config(state: &Path, agents: usize, keyed: bool) -> Result<(), String> {
    let names: Vec<String> = (0..agents).map(agent_name).collect();
    let cfg = if keyed {
        let entries: Map<String, Value> = names.iter().map(|n| (n.clone(), json!({}))).collect();
        json!({"agents": {"ownership": "explicit", "entries": entries}})
    } else {
        let list: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i == 0 {
                    json!({"id": n, "default": true})
                } else {
                    json!({"id": n})
                }
            })
            .collect();
        json!({"agents": {"list": list}})
    };
    let text = serde_json::to_string_pretty(&cfg).map_err(|e| e.to_string())? + "\n";
    fs::write(state.join("openclaw.json"), text).map_err(|e| e.to_string())
}

fn sql_err(e: rusqlite::Error) -> String {
    e.to_string()
}

fn gen_openclaw_sqlite(o: &Opts, now: i64, running_share: f64) -> Result<StoreReport, String> {
    let t0 = Instant::now();
    let state = o.out.join("openclaw-sqlite");
    prepare_dir(&state, o.force)?;
    let state = fs::canonicalize(&state).map_err(|e| e.to_string())?;
    let mut rng = Rng(o.seed ^ 0x5017e);
    let agents = o.agents.max(1);
    write_openclaw_config(&state, agents, true)?;
    let done_t = template(SQLITE_DONE, &state, o.system_prompt_report);
    let run_t = template(SQLITE_RUNNING, &state, false);
    let mut report = StoreReport {
        path: state.clone(),
        total: o.openclaw_sqlite,
        ..StoreReport::default()
    };
    let mut conns = Vec::new();
    for a in 0..agents {
        let dir = state.join("agents").join(agent_name(a)).join("agent");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let conn = Connection::open(dir.join("openclaw-agent.sqlite")).map_err(sql_err)?;
        conn.execute_batch(
            "PRAGMA page_size = 4096; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;
             PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;",
        )
        .map_err(sql_err)?;
        conn.execute_batch(OPENCLAW_SCHEMA).map_err(sql_err)?;
        conn.execute_batch("PRAGMA user_version = 23;")
            .map_err(sql_err)?;
        let created = now - o.days * DAY_MS - DAY_MS;
        conn.execute(
            "INSERT INTO schema_meta (meta_key, role, schema_version, agent_id, app_version, created_at, updated_at)
             VALUES ('primary', 'agent', 23, ?1, '2026.9.6', ?2, ?2)",
            params![agent_name(a), created],
        )
        .map_err(sql_err)?;
        conn.execute(
            "INSERT INTO session_key_contract (id, main_key, canonical_ready, updated_at) VALUES (1, 'main', NULL, 0)",
            [],
        )
        .map_err(sql_err)?;
        conn.execute_batch("BEGIN").map_err(sql_err)?;
        conns.push(conn);
    }
    let n = o.openclaw_sqlite;
    for i in 0..n {
        let (key, a) = key_for(i, agents);
        // Each agent gets its share: pick over the entries numbered agent by agent.
        let running = picked(a * n.div_ceil(agents) + i / agents, running_share);
        let t = times(&mut rng, i, o.openclaw_sqlite, now, o.days, running);
        let sid = rng.uuid();
        let run_id = rng.uuid();
        let display = key.rsplit(':').next().unwrap_or("session").to_string();
        let mut e = if running {
            run_t.clone()
        } else {
            done_t.clone()
        };
        set(&mut e, "sessionId", json!(sid));
        set(&mut e, "updatedAt", json!(t.updated));
        set(&mut e, "sessionStartedAt", json!(t.started));
        set(&mut e, "lastInteractionAt", json!(t.last));
        set(&mut e, "displayName", json!(display));
        set(&mut e, "createdAt", json!(t.created));
        set(&mut e, "activeWriterRunId", json!(run_id));
        let win_started = t.started + rng.range(50, 700);
        set(&mut e, "startedAt", json!(win_started));
        let (status, ended): (&str, Option<i64>) = if running {
            report.running_or_active += 1;
            report.orphan_candidates += 1;
            set(&mut e, "lifecycleRunId", json!(run_id));
            ("running", None)
        } else {
            let failed = rng.chance(0.02);
            let st = if failed { "failed" } else { "done" };
            set(&mut e, "status", json!(st));
            set(&mut e, "abortedLastRun", json!(failed));
            set(&mut e, "lastActivityAt", json!(t.last));
            set(&mut e, "endedAt", json!(t.ended));
            set(&mut e, "runtimeMs", json!(t.ended - win_started));
            set(&mut e, "lastRunId", json!(run_id));
            let input = rng.range(10, 40_000);
            let output = rng.range(5, 4_000);
            set(&mut e, "inputTokens", json!(input));
            set(&mut e, "outputTokens", json!(output));
            set(&mut e, "totalTokens", json!(input + output));
            if let Some(Value::Object(cb)) = e.get_mut("contextBudgetStatus") {
                set(cb, "updatedAt", json!(t.ended - rng.range(10, 500)));
                set(cb, "sessionId", json!(sid));
            }
            if let Some(Value::Object(r)) = e.get_mut("systemPromptReport") {
                set(r, "sessionId", json!(sid));
                set(r, "sessionKey", json!(key));
                set(r, "generatedAt", json!(t.started + rng.range(10, 900)));
            }
            (st, Some(t.ended))
        };
        let entry_json = serde_json::to_string(&Value::Object(e)).map_err(|e| e.to_string())?;
        let conn = &conns[a];
        conn.prepare_cached(
            "INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at, status,
               created_at, created_via, display_name, last_interaction_at, last_activity_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'run', ?7, ?8, ?9)",
        )
        .map_err(sql_err)?
        .execute(params![
            key,
            sid,
            entry_json,
            t.updated,
            status,
            t.created,
            display,
            t.last,
            (!running).then_some(t.last),
        ])
        .map_err(sql_err)?;
        let transcript = (!running).then(|| t.ended - rng.range(5, 200));
        conn.prepare_cached(
            "INSERT INTO session_windows (session_id, session_key, session_scope, created_at, updated_at,
               transcript_updated_at, transcript_observed_at, session_entry_provenance, acp_owned,
               started_at, ended_at, status, model_provider, model, agent_harness_id, display_name)
             VALUES (?1, ?2, 'conversation', ?3, ?4, ?5, ?5, 1, 0, ?6, ?7, ?8, 'fake', 'fake-model', 'openclaw', ?9)",
        )
        .map_err(sql_err)?
        .execute(params![
            sid,
            key,
            t.started,
            t.updated,
            transcript,
            win_started,
            ended,
            status,
            display
        ])
        .map_err(sql_err)?;
    }
    for conn in conns {
        // The gateway validates every entry; the capture has entry_valid = 1 and nothing pending.
        conn.execute_batch(
            "UPDATE session_nodes SET entry_valid = 1;
             DELETE FROM session_canonical_validation_pending;
             COMMIT;
             PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .map_err(sql_err)?;
        conn.execute_batch("ANALYZE; PRAGMA optimize;")
            .map_err(sql_err)?;
    }
    report.bytes = dir_bytes(&state);
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

fn gen_claude_mem(o: &Opts, now: i64) -> Result<StoreReport, String> {
    const PROMPTS: &[&str] = &[
        "summarise the overnight alerts",
        "what is on my calendar today?",
        "run the slow e2e suite and report",
        "check disk usage on the build host",
        "draft a reply to the customer about the refund",
        "nightly dependency audit",
        "also attach the junit xml",
        "open a ticket for the flaky test and assign it to me",
        "translate this message to German and send it back",
        "why did the deploy to staging fail?",
    ];
    const REPOS: &[&str] = &["sessionctl", "webapp", "infra", "docs", "api-gateway"];
    let t0 = Instant::now();
    let dir = o.out.join("claude-mem");
    prepare_dir(&dir, o.force)?;
    let dir = fs::canonicalize(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("claude-mem.db");
    let mut rng = Rng(o.seed ^ 0xc1a0de);
    let agents = o.agents.max(1);
    let link_keys = o.openclaw_file.max(o.openclaw_sqlite);
    let running_share = o.running_share.unwrap_or(o.orphan_share);
    // The keys the OpenClaw generators leave running (same formula as there): a crashed
    // gateway's in-flight sessions each hold an active claude-mem row.
    let running_keys: Vec<usize> = (0..link_keys)
        .filter(|&i| {
            picked(
                (i % agents) * link_keys.div_ceil(agents) + i / agents,
                running_share,
            )
        })
        .collect();
    let mut nth_active = 0usize;
    let mut report = StoreReport {
        path: db.clone(),
        total: o.claude_mem,
        ..StoreReport::default()
    };
    let conn = Connection::open(&db).map_err(sql_err)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
    )
    .map_err(sql_err)?;
    conn.execute_batch(CLAUDE_MEM_SCHEMA).map_err(sql_err)?;
    // schema_versions as the 13.25.3 worker leaves them (max 52).
    conn.execute_batch("BEGIN").map_err(sql_err)?;
    for (n, v) in (4..=52).enumerate() {
        conn.execute(
            "INSERT INTO schema_versions (id, version, applied_at) VALUES (?1, ?2, ?3)",
            params![n as i64 + 1, v, iso(now - o.days * DAY_MS - 2 * DAY_MS)],
        )
        .map_err(sql_err)?;
    }
    let span = o.days * DAY_MS;
    let mut prompts_written = 0usize;
    let prompt_share = (o.prompts_per_session - 1.0).clamp(0.0, 2.0) / 2.0;
    {
        let mut ins = conn
            .prepare(
                "INSERT INTO sdk_sessions (id, content_session_id, memory_session_id, project, platform_source,
                   user_prompt, started_at, started_at_epoch, completed_at, completed_at_epoch, status,
                   worker_port, prompt_counter, custom_title)
                 VALUES (?1, ?2, ?3, ?4, 'claude', ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11, NULL)",
            )
            .map_err(sql_err)?;
        let mut ins_p = conn
            .prepare(
                "INSERT INTO user_prompts (session_db_id, content_session_id, prompt_number, prompt_text,
                   created_at, created_at_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(sql_err)?;
        for i in 0..o.claude_mem {
            let id = i as i64 + 1;
            let active = picked(i, o.orphan_share);
            let started = if active {
                // Ghosts accumulate: active rows are from any time in the window, with the
                // newest ones from the last minutes.
                if rng.chance(0.5) {
                    now - rng.range(60_000, 30 * 60_000)
                } else {
                    now - span + (span as f64 * i as f64 / o.claude_mem.max(1) as f64) as i64
                }
            } else {
                now - span + (span as f64 * i as f64 / o.claude_mem.max(1) as f64) as i64
                    - rng.range(0, 3_600_000)
            };
            let roll = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            let (cid, project, openclaw) = if roll < o.observer_share {
                (rng.uuid(), "observer-sessions".to_string(), false)
            } else if roll < o.observer_share + o.foreign_share {
                let repo = REPOS[rng.below(REPOS.len() as u64) as usize];
                (rng.uuid(), repo.to_string(), false)
            } else if rng.chance(0.005) {
                (
                    format!("openclaw-default-{started}"),
                    "openclaw".to_string(),
                    true,
                )
            } else {
                let k = if link_keys == 0 {
                    i / 10
                } else if active && !running_keys.is_empty() && rng.chance(0.5) {
                    nth_active += 1;
                    running_keys[nth_active % running_keys.len()]
                } else {
                    rng.below(link_keys as u64) as usize
                };
                let (key, a) = key_for(k, agents);
                (
                    format!("openclaw-{key}-{started}"),
                    format!("openclaw-{}", agent_name(a)),
                    true,
                )
            };
            let n_prompts = if o.prompts_per_session <= 0.0 {
                0
            } else {
                1 + usize::from(rng.chance(prompt_share)) + usize::from(rng.chance(prompt_share))
            };
            let first = PROMPTS[rng.below(PROMPTS.len() as u64) as usize];
            let memory_id = (!(active && rng.chance(0.02))).then(|| rng.uuid());
            let (status, completed) = if active {
                report.running_or_active += 1;
                if openclaw && project != "observer-sessions" {
                    report.orphan_candidates += 1;
                }
                ("active", None)
            } else if rng.chance(0.01) {
                (
                    "failed",
                    Some(started + rng.range(6 * 3_600_000, 7 * 3_600_000)),
                )
            } else {
                (
                    "completed",
                    Some(started + rng.range(60_000, 2 * 3_600_000)),
                )
            };
            ins.execute(params![
                id,
                cid,
                memory_id,
                project,
                first,
                iso(started),
                started,
                completed.filter(|_| status == "completed").map(iso),
                completed,
                status,
                n_prompts as i64,
            ])
            .map_err(sql_err)?;
            let mut at = started;
            for p in 0..n_prompts {
                at += if p == 0 {
                    rng.range(100, 1_000)
                } else {
                    rng.range(5_000, 600_000)
                };
                // Nothing happens after "now".
                at = at.min(now - rng.range(1_000, 30_000)).max(started);
                let text = if p == 0 {
                    first
                } else {
                    PROMPTS[rng.below(PROMPTS.len() as u64) as usize]
                };
                ins_p
                    .execute(params![id, cid, p as i64 + 1, text, iso(at), at])
                    .map_err(sql_err)?;
                prompts_written += 1;
            }
        }
    }
    conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE); ANALYZE; PRAGMA optimize;")
        .map_err(sql_err)?;
    drop(conn);
    report.user_prompts = Some(prompts_written);
    report.bytes = dir_bytes(&dir);
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

fn main() {
    let o = Opts::parse();
    if !(0.0..=1.0).contains(&o.orphan_share)
        || o.running_share.is_some_and(|s| !(0.0..=1.0).contains(&s))
    {
        eprintln!("gen_store: shares are between 0 and 1");
        std::process::exit(2);
    }
    let now = o.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    });
    let running_share = o.running_share.unwrap_or(o.orphan_share);
    if let Err(e) = fs::create_dir_all(&o.out) {
        eprintln!("gen_store: {}: {e}", o.out.display());
        std::process::exit(2);
    }
    // Stores generated by earlier runs into the same --out stay listed.
    let path = o.out.join("manifest.json");
    let mut manifest = match fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    manifest.insert("generated_at".into(), json!(iso(now)));
    manifest.insert("seed".into(), json!(o.seed));
    manifest.insert("agents".into(), json!(o.agents));
    manifest.insert("orphan_share".into(), json!(o.orphan_share));
    manifest.insert("running_share".into(), json!(running_share));
    manifest.insert("system_prompt_report".into(), json!(o.system_prompt_report));
    let mut run = |name: &str, f: &dyn Fn() -> Result<StoreReport, String>| {
        eprint!("gen_store: {name} … ");
        match f() {
            Ok(r) => {
                eprintln!(
                    "{} rows, {} running/active, {:.1} MB, {:.1} s ({})",
                    r.total,
                    r.running_or_active,
                    r.bytes as f64 / 1e6,
                    r.seconds,
                    r.path.display()
                );
                manifest.insert(name.into(), serde_json::to_value(&r).unwrap_or(Value::Null));
            }
            Err(e) => {
                eprintln!("failed: {e}");
                std::process::exit(1);
            }
        }
    };
    if o.openclaw_file > 0 {
        run("openclaw-file", &|| {
            gen_openclaw_file(&o, now, running_share)
        });
    }
    if o.openclaw_sqlite > 0 {
        run("openclaw-sqlite", &|| {
            gen_openclaw_sqlite(&o, now, running_share)
        });
    }
    if o.claude_mem > 0 {
        run("claude-mem", &|| gen_claude_mem(&o, now));
    }
    let text = serde_json::to_string_pretty(&Value::Object(manifest)).unwrap_or_default() + "\n";
    if let Err(e) = fs::write(&path, text) {
        eprintln!("gen_store: {}: {e}", path.display());
        std::process::exit(1);
    }
}
