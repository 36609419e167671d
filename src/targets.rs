//! Hook targets: where `close` delivers the `session_end` payload, read from the config
//! file, and the delivery itself — an HTTP POST, or a command with the payload on stdin.
//!
//! Secrets: an HTTP header's value comes from an environment variable the config names.
//! It is kept in `Header::value` (private) and goes on the wire, nowhere else: not into
//! `Debug`, `Display`, config errors or a delivery's `detail`.

// Wired into close in a following commit.
#![allow(dead_code)]

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

pub const DEFAULT_CONCURRENCY: usize = 8;
pub const MAX_CONCURRENCY: usize = 64;
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// A hook that needs longer than this is misconfigured; it also keeps deadline
/// arithmetic far from overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
pub const DEFAULT_RETRIES: u32 = 2;
pub const MAX_RETRIES: u32 = 10;
/// How much of a command's stderr is kept to describe its failure.
const STDERR_TAIL: usize = 2048;
/// After a command exits, how long its stdout/stderr readers may take to reach EOF. A
/// grandchild it left in the background can hold the pipes open for ever.
const READ_GRACE: Duration = Duration::from_millis(250);
/// Headers sessionctl sets itself, or that would corrupt the request.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "host",
];

// ---------------------------------------------------------------------------------------
// Configuration

/// The config file: hook targets and the (not yet used) extra settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Most deliveries in flight at once (1..=64).
    pub concurrency: usize,
    pub targets: Vec<Target>,
    /// `idle = "6h"`, checked with the same parser as `--idle`.
    pub idle: Option<String>,
    /// `[openclaw] state_dirs`, as written (not expanded, not made absolute).
    pub openclaw_state_dirs: Vec<PathBuf>,
    /// `[claude_mem] data_dir`, as written.
    pub claude_mem_dir: Option<PathBuf>,
    /// `[journal] max_size`, `max_backups_size`, `keep`.
    pub journal: crate::journal::Retention,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            concurrency: DEFAULT_CONCURRENCY,
            targets: Vec::new(),
            idle: None,
            openclaw_state_dirs: Vec::new(),
            claude_mem_dir: None,
            journal: crate::journal::Retention::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    /// Per attempt for HTTP; for the whole run of a command.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Http {
        url: String,
        headers: Vec<Header>,
        /// Attempts after the first one.
        retries: u32,
    },
    Command {
        /// Never empty; `argv[0]` is executed directly (PATH lookup, no shell).
        argv: Vec<String>,
        /// `env = ["NAME", …]`: variables of sessionctl's environment the command gets
        /// besides [`COMMAND_ENV`] (when set).
        env: Vec<String>,
    },
}

/// An HTTP header whose value was read from the environment variable `env`.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub env: String,
    /// The secret: never Debug-printed, displayed or serialized.
    value: String,
}

impl Header {
    pub fn new(
        name: impl Into<String>,
        env: impl Into<String>,
        value: impl Into<String>,
    ) -> Header {
        Header {
            name: name.into(),
            env: env.into(),
            value: value.into(),
        }
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("name", &self.name)
            .field("env", &self.env)
            .field("value", &format_args!("<redacted>"))
            .finish()
    }
}

impl Target {
    /// `http` or `command`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            TargetKind::Http { .. } => "http",
            TargetKind::Command { .. } => "command",
        }
    }
}

/// One line for dry runs: name, type, url or argv, timeout, retries, header names with the
/// variables they come from. Never a header value; a password in the url shows as `***`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TargetKind::Http {
                url,
                headers,
                retries,
            } => {
                write!(
                    f,
                    "{}: http POST {} (timeout {}, {} {}",
                    self.name,
                    display_url(url),
                    format_duration(self.timeout),
                    retries,
                    if *retries == 1 { "retry" } else { "retries" }
                )?;
                for (i, h) in headers.iter().enumerate() {
                    let sep = if i == 0 { ", headers " } else { ", " };
                    write!(f, "{sep}{}: ${}", h.name, h.env)?;
                }
                f.write_str(")")
            }
            TargetKind::Command { argv, env } => {
                let words: Vec<Cow<str>> = argv.iter().map(|a| quote_arg(a)).collect();
                write!(
                    f,
                    "{}: command {} (timeout {}",
                    self.name,
                    words.join(" "),
                    format_duration(self.timeout)
                )?;
                if !env.is_empty() {
                    write!(f, ", env {}", env.join(" "))?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A config file that cannot be used; displays as one line, `<path>: <what is wrong>`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// Read the config file at `path`. A missing file is an empty config when the caller
/// chose the default location (`explicit` false), an error when the user named it.
pub fn load(
    path: &Path,
    explicit: bool,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let error = |message: String| ConfigError {
        path: path.to_path_buf(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !explicit => return Ok(Config::default()),
        Err(e) => return Err(error(format!("cannot read: {}", io_message(&e)))),
    };
    parse(&text, getenv).map_err(error)
}

/// Parse and check a config file's text; the error is one line without the file name.
fn parse(text: &str, getenv: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;

    let concurrency = match raw.concurrency {
        None => DEFAULT_CONCURRENCY,
        Some(n) if (1..=MAX_CONCURRENCY as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY}, not {n}"
            ))
        }
    };
    if let Some(idle) = &raw.idle {
        crate::duration::parse_idle(idle).map_err(|e| format!("idle: {e}"))?;
    }
    let openclaw_state_dirs = raw.openclaw.map(|o| o.state_dirs).unwrap_or_default();
    if openclaw_state_dirs.iter().any(|d| d.as_os_str().is_empty()) {
        return Err("openclaw.state_dirs: a state dir is empty".into());
    }
    let claude_mem_dir = raw.claude_mem.and_then(|c| c.data_dir);
    if claude_mem_dir
        .as_ref()
        .is_some_and(|d| d.as_os_str().is_empty())
    {
        return Err("claude_mem.data_dir is empty".into());
    }

    let journal = retention(raw.journal)?;

    let mut targets: Vec<Target> = Vec::with_capacity(raw.targets.len());
    for (i, raw) in raw.targets.into_iter().enumerate() {
        let t = target(i, raw, getenv)?;
        if let Some(j) = targets.iter().position(|o| o.name == t.name) {
            return Err(format!(
                "target `{}` is defined twice (targets #{} and #{})",
                t.name,
                j + 1,
                i + 1
            ));
        }
        targets.push(t);
    }

    Ok(Config {
        concurrency,
        targets,
        idle: raw.idle,
        openclaw_state_dirs,
        claude_mem_dir,
        journal,
    })
}

/// `[journal]`: each limit checked, the defaults for those not given.
fn retention(raw: Option<RawJournal>) -> Result<crate::journal::Retention, String> {
    use crate::journal::{parse_size, Retention};
    let mut r = Retention::default();
    let Some(raw) = raw else { return Ok(r) };
    if let Some(v) = &raw.max_size {
        r.max_size = parse_size(v).map_err(|e| format!("journal.max_size: {e}"))?;
    }
    if let Some(v) = &raw.max_backups_size {
        r.max_backups_size = parse_size(v).map_err(|e| format!("journal.max_backups_size: {e}"))?;
    }
    if let Some(v) = &raw.keep {
        let keep = crate::duration::parse(v, "d").map_err(|e| format!("journal.keep: {e}"))?;
        r.keep_ms = crate::duration::as_ms(keep);
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    concurrency: Option<i64>,
    idle: Option<String>,
    #[serde(default)]
    targets: Vec<RawTarget>,
    openclaw: Option<RawOpenclaw>,
    claude_mem: Option<RawClaudeMem>,
    journal: Option<RawJournal>,
    /// `[[backend.sql]]` entries: read and checked by `backend::sql::config`.
    #[allow(dead_code)]
    backend: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJournal {
    max_size: Option<String>,
    max_backups_size: Option<String>,
    keep: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpenclaw {
    #[serde(default)]
    state_dirs: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaudeMem {
    data_dir: Option<PathBuf>,
}

// One flat struct for both types, so that a field of the other type gets a clear
// message ("`argv` is only for command targets") instead of serde's untagged guesswork.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    timeout: Option<String>,
    retries: Option<i64>,
    headers: Option<RawHeaders>,
    argv: Option<Vec<String>>,
    env: Option<Vec<String>>,
}

/// `[targets.headers]` in file order (a map would sort them).
struct RawHeaders(Vec<(String, String)>);

impl<'de> Deserialize<'de> for RawHeaders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawHeaders, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawHeaders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of header names to environment variable names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeaders, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(RawHeaders(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn target(
    i: usize,
    raw: RawTarget,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, String> {
    let name = raw
        .name
        .ok_or_else(|| format!("target #{}: missing `name`", i + 1))?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "target #{}: name \"{}\" may only use A-Z, a-z, 0-9, _ and -",
            i + 1,
            name.escape_debug()
        ));
    }
    let label = format!("target `{name}`");
    let kind = raw
        .kind
        .ok_or_else(|| format!("{label}: missing `type` (http or command)"))?;
    let only = |field: &str, present: bool, kind: &str| -> Result<(), String> {
        match present {
            true => Err(format!("{label}: `{field}` is only for {kind} targets")),
            false => Ok(()),
        }
    };
    let timeout = |default: Duration| -> Result<Duration, String> {
        match &raw.timeout {
            None => Ok(default),
            Some(s) => parse_timeout(s).map_err(|e| format!("{label}: {e}")),
        }
    };

    let kind = match kind.as_str() {
        "http" => {
            only("argv", raw.argv.is_some(), "command")?;
            only("env", raw.env.is_some(), "command")?;
            let url = raw
                .url
                .clone()
                .ok_or_else(|| format!("{label}: missing `url`"))?;
            check_url(&url).map_err(|e| format!("{label}: {e}"))?;
            let retries = match raw.retries {
                None => DEFAULT_RETRIES,
                Some(n) if (0..=MAX_RETRIES as i64).contains(&n) => n as u32,
                Some(n) => {
                    return Err(format!(
                        "{label}: retries must be between 0 and {MAX_RETRIES}, not {n}"
                    ))
                }
            };
            let mut headers: Vec<Header> = Vec::new();
            for (hname, env) in raw.headers.as_ref().map(|h| &h.0[..]).unwrap_or(&[]) {
                let h = header(hname, env, getenv).map_err(|e| format!("{label}: {e}"))?;
                if headers.iter().any(|o| o.name.eq_ignore_ascii_case(&h.name)) {
                    return Err(format!("{label}: header {} is set twice", h.name));
                }
                headers.push(h);
            }
            TargetKind::Http {
                url,
                headers,
                retries,
            }
        }
        "command" => {
            only("url", raw.url.is_some(), "http")?;
            only("retries", raw.retries.is_some(), "http")?;
            only("headers", raw.headers.is_some(), "http")?;
            let argv = raw
                .argv
                .clone()
                .ok_or_else(|| format!("{label}: missing `argv`"))?;
            match argv.first() {
                None => return Err(format!("{label}: argv is empty")),
                Some(p) if p.is_empty() => return Err(format!("{label}: argv[0] is empty")),
                Some(_) => {}
            }
            if argv.iter().any(|a| a.contains('\0')) {
                return Err(format!("{label}: argv contains a NUL character"));
            }
            let env = raw.env.clone().unwrap_or_default();
            for name in &env {
                if !valid_env_name(name) {
                    return Err(format!(
                        "{label}: env: \"{}\" is not the name of an environment variable \
                         (letters, digits and _)",
                        name.escape_debug()
                    ));
                }
            }
            TargetKind::Command { argv, env }
        }
        other => {
            return Err(format!(
                "{label}: unknown type \"{}\" (use http or command)",
                other.escape_debug()
            ))
        }
    };
    let timeout = timeout(match kind {
        TargetKind::Http { .. } => DEFAULT_HTTP_TIMEOUT,
        TargetKind::Command { .. } => DEFAULT_COMMAND_TIMEOUT,
    })?;
    Ok(Target {
        name,
        kind,
        timeout,
    })
}

fn check_url(url: &str) -> Result<(), String> {
    // The message leaves the url out: it may hold a password, and its parse error says
    // enough.
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("url is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "url {} must start with http:// or https://",
            display_url(url)
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("url {} has no host", display_url(url)));
    }
    Ok(())
}

fn header(
    name: &str,
    env: &str,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<Header, String> {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!(
            "header \"{}\" is not a valid HTTP header name",
            name.escape_debug()
        ));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "header {name} is set by sessionctl and cannot be configured"
        ));
    }
    // The value is the NAME of a variable. Someone who wrote the secret itself there must
    // not find it echoed in an error message, so a bad name is not repeated.
    if !valid_env_name(env) {
        return Err(format!(
            "header {name}: the value must be the name of an environment variable \
             (letters, digits and _) that holds the header value, not the value itself"
        ));
    }
    let value = match getenv(env) {
        None => return Err(format!("header {name} reads ${env}, which is not set")),
        Some(v) if v.is_empty() => {
            return Err(format!("header {name} reads ${env}, which is empty"))
        }
        Some(v) => v,
    };
    if HeaderValue::from_str(&value).is_err() {
        return Err(format!(
            "header {name} reads ${env}, which holds characters an HTTP header cannot carry \
             (a line break?)"
        ));
    }
    Ok(Header::new(name, env, value))
}

/// Letters, digits and `_`, not starting with a digit.
fn valid_env_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A target's `timeout` (`500ms`, `5s`, `1m30s`, `1h`): more than zero, at most an hour.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(s, "s").map_err(|e| format!("timeout: {e}"))?;
    if d.is_zero() {
        return Err(format!(
            "timeout \"{}\" must be more than zero",
            s.escape_debug()
        ));
    }
    if d > MAX_TIMEOUT {
        return Err(format!(
            "timeout \"{}\" is longer than 1h",
            s.escape_debug()
        ));
    }
    Ok(d)
}

/// The shortest exact form among `2h`, `2m`, `5s`, `500ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0ms".into(),
        _ if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        _ if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        _ if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

/// toml's message spans several lines with a source excerpt; keep the position and the
/// message, on one line.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("TOML parse error at line {line}, column {column}: {message}")
        }
        None => format!("TOML parse error: {message}"),
    }
}

/// The url with any password replaced by `***`.
fn display_url(url: &str) -> Cow<'_, str> {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            Cow::Owned(u.to_string())
        }
        _ => Cow::Borrowed(url),
    }
}

/// An argument as a POSIX shell would need it, for display only.
fn quote_arg(a: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,@%+".contains(c);
    if !a.is_empty() && a.chars().all(plain) {
        return Cow::Borrowed(a);
    }
    let mut s = String::with_capacity(a.len() + 2);
    s.push('\'');
    for c in a.chars() {
        match c {
            '\'' => s.push_str("'\\''"),
            c if c.is_control() => s.extend(c.escape_default()),
            c => s.push(c),
        }
    }
    s.push('\'');
    Cow::Owned(s)
}

/// An io error's message without the `(os error N)` suffix.
fn io_message(e: &io::Error) -> String {
    let s = e.to_string();
    match e.raw_os_error() {
        Some(code) => s
            .strip_suffix(&format!(" (os error {code})"))
            .map(str::to_string)
            .unwrap_or(s),
        None => s,
    }
}

// ---------------------------------------------------------------------------------------
// Delivery

/// How one delivery to one target went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Delivered: a 2xx answer, or exit status 0.
    pub ok: bool,
    /// Requests sent, or 1 for a command (0 when nothing could be tried).
    pub attempts: u32,
    /// One line, e.g. `HTTP 204 after 1 attempt`; never a header value.
    pub detail: String,
    pub elapsed_ms: u64,
}

/// The HTTP client for deliveries. reqwest's defaults, except: the user agent is
/// `sessionctl/<version>`, redirects are not followed (a POST must not turn into a GET
/// elsewhere), and proxies from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` (minus `NO_PROXY`)
/// never apply to loopback targets.
pub fn http_client() -> Client {
    build_client(&|k| std::env::var(k).ok())
}

fn build_client(getenv: &dyn Fn(&str) -> Option<String>) -> Client {
    let mut builder = Client::builder()
        .user_agent(concat!("sessionctl/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    for p in env_proxies(getenv) {
        builder = builder.proxy(p);
    }
    builder
        .build()
        .expect("the HTTP client (rustls) could not be initialised")
}

/// The proxies reqwest would take from the environment, each exempting loopback.
fn env_proxies(getenv: &dyn Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    let first = |names: [&str; 2]| names.iter().find_map(|n| getenv(n));
    let mut no_proxy = first(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    no_proxy.push_str(",localhost,127.0.0.0/8,::1");
    type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;
    let candidates: [(MakeProxy, [&str; 2]); 3] = [
        (|u| reqwest::Proxy::http(u), ["HTTP_PROXY", "http_proxy"]),
        (|u| reqwest::Proxy::https(u), ["HTTPS_PROXY", "https_proxy"]),
        (|u| reqwest::Proxy::all(u), ["ALL_PROXY", "all_proxy"]),
    ];
    candidates
        .into_iter()
        .filter_map(|(make, names)| {
            let url = first(names).filter(|u| !u.trim().is_empty())?;
            let proxy = make(url.trim()).ok()?;
            Some(proxy.no_proxy(reqwest::NoProxy::from_string(&no_proxy)))
        })
        .collect()
}

/// Deliver `payload` to one target. HTTP targets are retried as configured; commands
/// run once. Never panics on a failing target; the outcome says what happened.
pub fn deliver(target: &Target, payload: &serde_json::Value, client: &Client) -> Outcome {
    deliver_with(target, payload, None, || client)
}

/// One delivery for [`deliver_all`]. `key` identifies the delivery across runs (the same
/// session to the same target gives the same key): HTTP targets get it as an
/// `Idempotency-Key` header, commands as `SESSIONCTL_DELIVERY_ID`, so a receiver can drop
/// the duplicate a crash between delivery and journal could cause.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub target: &'a Target,
    pub payload: &'a serde_json::Value,
    pub key: Option<&'a str>,
}

/// `deliver`, with the client made only when an HTTP target needs one.
fn deliver_with<'c>(
    target: &Target,
    payload: &serde_json::Value,
    key: Option<&str>,
    client: impl FnOnce() -> &'c Client,
) -> Outcome {
    attempt(target, payload, key, client).0
}

/// One delivery, and whether its failure says the target is down (see [`Tried`]).
fn attempt<'c>(
    target: &Target,
    payload: &serde_json::Value,
    key: Option<&str>,
    client: impl FnOnce() -> &'c Client,
) -> (Outcome, bool) {
    let start = Instant::now();
    let tried = match &target.kind {
        TargetKind::Http {
            url,
            headers,
            retries,
        } => deliver_http(
            url,
            headers,
            *retries,
            target.timeout,
            payload,
            key,
            client(),
        ),
        TargetKind::Command { argv, env } => {
            let env = command_env(env, std::env::vars_os());
            deliver_command(argv, &env, target.timeout, payload, key)
        }
    };
    let outcome = Outcome {
        ok: tried.ok,
        attempts: tried.attempts,
        detail: clean_detail(&tried.detail, target),
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    (outcome, tried.down)
}

/// After this many deliveries in a row to one target failed because the target is down,
/// the rest of its deliveries in this run are not attempted (they stay failed, and the
/// next run tries them again). Each of those deliveries has already used its retries, so
/// three in a row is not a blip; fewer could be two payloads caught by one short restart.
/// Until a target has delivered once in this run, at most this many of its deliveries are
/// in flight at a time: a target that is down from the start costs three deliveries, side
/// by side, i.e. about one timeout (× attempts) of wall time, however many orphans there
/// are.
pub const GIVE_UP_AFTER: u32 = 3;

/// A target's standing in one [`deliver_all`].
#[derive(Default)]
struct TargetState {
    /// Its jobs not yet started, in job order.
    queue: std::collections::VecDeque<usize>,
    in_flight: usize,
    /// Deliveries that failed in a row because the target is down.
    streak: u32,
    /// It answered once in this run (delivered, or refused a payload).
    answered: bool,
}

impl TargetState {
    fn given_up(&self) -> bool {
        self.streak >= GIVE_UP_AFTER
    }
}

struct Scheduler {
    targets: Vec<TargetState>,
    /// Where the next search for work starts, so targets take turns.
    turn: usize,
    workers: usize,
}

/// What a worker is to do next.
enum Work {
    Deliver(usize, usize),
    /// Record the job as not attempted: its target was given up on.
    Skip(usize, usize),
    Wait,
    Done,
}

impl Scheduler {
    fn next(&mut self) -> Work {
        let n = self.targets.len();
        let mut waiting = false;
        for k in 0..n {
            let t = (self.turn + k) % n;
            let st = &self.targets[t];
            let Some(&job) = st.queue.front() else {
                continue;
            };
            waiting = true;
            if st.given_up() {
                self.targets[t].queue.pop_front();
                return Work::Skip(job, t);
            }
            if st.in_flight >= self.limit(t) {
                continue;
            }
            let st = &mut self.targets[t];
            st.queue.pop_front();
            st.in_flight += 1;
            self.turn = (t + 1) % n;
            return Work::Deliver(job, t);
        }
        if waiting {
            Work::Wait
        } else {
            Work::Done
        }
    }

    /// How many of target `t`'s deliveries may be in flight now.
    fn limit(&self, t: usize) -> usize {
        let st = &self.targets[t];
        let mut limit = self.workers;
        // One worker stays free for the other targets while they have work: a target
        // that hangs never holds every slot.
        let others = self
            .targets
            .iter()
            .enumerate()
            .any(|(i, o)| i != t && !o.queue.is_empty() && !o.given_up());
        if others {
            limit = limit.saturating_sub(1);
        }
        // Not yet known to be up, or failing: no more in flight than failures it may
        // still have before it is given up on.
        if !st.answered || st.streak > 0 {
            limit = limit.min(GIVE_UP_AFTER.saturating_sub(st.streak) as usize);
        }
        limit.max(1)
    }

    fn finished(&mut self, t: usize, ok: bool, down: bool) {
        let st = &mut self.targets[t];
        st.in_flight -= 1;
        if ok || !down {
            st.answered = true;
            st.streak = 0;
        } else {
            st.streak += 1;
        }
    }
}

/// What one run learned about its targets, carried from one [`deliver_all_within`] to the
/// next (a `close` that first retries an earlier run's failed deliveries, then delivers
/// its own): a target given up on stays given up on for the rest of the run.
#[derive(Debug, Default)]
pub struct RunBudget {
    /// Target name → (failures in a row because it is down, it answered once).
    seen: Mutex<std::collections::HashMap<String, (u32, bool)>>,
}

/// [`deliver_all_within`] with a budget of its own.
pub fn deliver_all(
    jobs: &[Job],
    concurrency: usize,
    on_done: &(dyn Fn(usize, &Outcome) + Sync),
) -> Vec<Outcome> {
    deliver_all_within(jobs, concurrency, &RunBudget::default(), on_done)
}

/// Deliver each `(target, payload)` job, at most `concurrency` at a time (at least one),
/// calling `on_done(job_index, &outcome)` from the worker thread as each one finishes.
/// Returns the outcomes in job order.
///
/// Each target has its own budget: after [`GIVE_UP_AFTER`] deliveries in a row failed
/// because the target is down (timed out, unreachable, HTTP 5xx or 429 after the
/// retries, a command that timed out or could not be started), its remaining jobs are not
/// attempted and fail at once with a detail saying so. A target that answers "no" (HTTP
/// 4xx, a command's non-zero exit) is up and costs no timeout, so that does not count:
/// three payloads it always refuses must not keep it from getting the others, run after
/// run. Targets take turns for workers, and no target holds every worker while another
/// one has work, so a healthy target never waits behind a dead one.
pub fn deliver_all_within(
    jobs: &[Job],
    concurrency: usize,
    budget: &RunBudget,
    on_done: &(dyn Fn(usize, &Outcome) + Sync),
) -> Vec<Outcome> {
    let workers = concurrency.clamp(1, MAX_CONCURRENCY).min(jobs.len());
    // Targets by identity (the same config entry), in order of first appearance.
    let mut distinct: Vec<&Target> = Vec::new();
    let mut states: Vec<TargetState> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let t = match distinct.iter().position(|d| std::ptr::eq(*d, job.target)) {
            Some(t) => t,
            None => {
                distinct.push(job.target);
                states.push(TargetState::default());
                distinct.len() - 1
            }
        };
        states[t].queue.push_back(i);
    }
    {
        let seen = budget.seen.lock().unwrap_or_else(|p| p.into_inner());
        for (st, t) in states.iter_mut().zip(&distinct) {
            (st.streak, st.answered) = seen.get(&t.name).copied().unwrap_or_default();
        }
    }
    let sched = Mutex::new(Scheduler {
        targets: states,
        turn: 0,
        workers,
    });
    let wake = std::sync::Condvar::new();
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; jobs.len()]);
    // Built on first use: a run with command targets only needs no HTTP client.
    let client: OnceLock<Client> = OnceLock::new();
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let work = {
                    let mut g = lock(&sched);
                    loop {
                        match g.next() {
                            Work::Wait => g = wake.wait(g).unwrap_or_else(|p| p.into_inner()),
                            w => break w,
                        }
                    }
                };
                let (i, outcome) = match work {
                    Work::Done => break,
                    Work::Wait => unreachable!("waited above"),
                    Work::Skip(i, t) => (i, not_attempted(distinct[t])),
                    Work::Deliver(i, t) => {
                        let job = &jobs[i];
                        let (outcome, down) = attempt(job.target, job.payload, job.key, || {
                            client.get_or_init(http_client)
                        });
                        lock(&sched).finished(t, outcome.ok, down);
                        wake.notify_all();
                        (i, outcome)
                    }
                };
                on_done(i, &outcome);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(outcome);
            });
        }
    });
    let sched = sched.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut seen = budget.seen.lock().unwrap_or_else(|p| p.into_inner());
    for (st, t) in sched.targets.iter().zip(&distinct) {
        seen.insert(t.name.clone(), (st.streak, st.answered));
    }
    drop(seen);
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|o| o.expect("every job was delivered"))
        .collect()
}

fn lock(m: &Mutex<Scheduler>) -> std::sync::MutexGuard<'_, Scheduler> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The outcome of a job whose target was given up on: a failure, so the next run tries it
/// again.
fn not_attempted(target: &Target) -> Outcome {
    Outcome {
        ok: false,
        attempts: 0,
        detail: format!(
            "not attempted: target {} failed {GIVE_UP_AFTER} times in a row this run; left for the next run",
            target.name
        ),
        elapsed_ms: 0,
    }
}

/// One line, no control characters, and none of the target's header values even if an
/// error message somewhere quoted one.
fn clean_detail(detail: &str, target: &Target) -> String {
    let mut s: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if let TargetKind::Http { headers, .. } = &target.kind {
        for h in headers.iter().filter(|h| !h.value.is_empty()) {
            s = s.replace(&h.value, "<redacted>");
        }
    }
    s.trim().to_string()
}

fn attempts_word(n: u32) -> String {
    match n {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// What one delivery came to, before its detail is cleaned into an [`Outcome`].
struct Tried {
    ok: bool,
    attempts: u32,
    detail: String,
    /// It failed in a way that says the target is down (no answer in time, unreachable,
    /// 5xx or 429, a command that could not start or timed out), rather than the target's
    /// answer to this payload.
    down: bool,
}

impl Tried {
    fn delivered(attempts: u32, detail: String) -> Tried {
        Tried {
            ok: true,
            attempts,
            detail,
            down: false,
        }
    }

    fn refused(attempts: u32, detail: String) -> Tried {
        Tried {
            ok: false,
            attempts,
            detail,
            down: false,
        }
    }

    fn down(attempts: u32, detail: String) -> Tried {
        Tried {
            ok: false,
            attempts,
            detail,
            down: true,
        }
    }
}

/// Why an attempt failed, and whether another one may help.
struct Failure {
    what: String,
    retry: bool,
    timed_out: bool,
}

fn deliver_http(
    url: &str,
    headers: &[Header],
    retries: u32,
    timeout: Duration,
    payload: &serde_json::Value,
    key: Option<&str>,
    client: &Client,
) -> Tried {
    let body = match serde_json::to_vec(payload) {
        Ok(b) => b,
        Err(e) => return Tried::refused(0, format!("cannot encode the payload: {e}")),
    };
    let mut map = HeaderMap::new();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(v) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
        map.insert(HeaderName::from_static("idempotency-key"), v);
    }
    for h in headers {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            return Tried::refused(0, format!("header {} is not a valid name", h.name));
        };
        let Ok(mut value) = HeaderValue::from_str(&h.value) else {
            return Tried::refused(
                0,
                format!("header {}: ${} is not a valid header value", h.name, h.env),
            );
        };
        value.set_sensitive(true);
        map.append(name, value);
    }

    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let sent = client
            .post(url)
            .timeout(timeout)
            .headers(map.clone())
            .body(body.clone())
            .send();
        let failure = match sent {
            Ok(resp) => {
                // The body is not read: it is not needed, and it may echo our headers.
                let status = resp.status();
                drop(resp);
                if status.is_success() {
                    let detail =
                        format!("HTTP {} after {}", status.as_u16(), attempts_word(attempt));
                    return Tried::delivered(attempt, detail);
                }
                Failure {
                    what: match status.is_redirection() {
                        true => format!("HTTP {} (redirects are not followed)", status.as_u16()),
                        false => format!("HTTP {}", status.as_u16()),
                    },
                    retry: status.is_server_error() || status.as_u16() == 429,
                    timed_out: false,
                }
            }
            Err(e) => http_failure(&e),
        };
        if !failure.retry || attempt > retries {
            let detail = match failure.timed_out {
                true => format!(
                    "timed out after {} ({})",
                    format_duration(timeout),
                    attempts_word(attempt)
                ),
                false => format!("{} after {}", failure.what, attempts_word(attempt)),
            };
            // Retryable failures (no answer, 5xx, 429) say the target is down; others are
            // its answer to this payload.
            return match failure.retry {
                true => Tried::down(attempt, detail),
                false => Tried::refused(attempt, detail),
            };
        }
        thread::sleep(backoff(attempt, timeout));
    }
}

/// Before attempt n+1: 200 ms × 2^(n-1), at most 2 s and at most the timeout, so that a
/// retry costs no more than twice the timeout.
fn backoff(failed_attempt: u32, timeout: Duration) -> Duration {
    let exp = failed_attempt.saturating_sub(1).min(16);
    Duration::from_millis(200u64 << exp)
        .min(Duration::from_secs(2))
        .min(timeout)
}

/// Describe a reqwest error without its Display, which names the url.
fn http_failure(e: &reqwest::Error) -> Failure {
    let timed_out = Failure {
        what: "timed out".into(),
        retry: true,
        timed_out: true,
    };
    if e.is_timeout() {
        return timed_out;
    }
    let mut io_error: Option<&io::Error> = None;
    let mut innermost: Option<&dyn std::error::Error> = None;
    let mut cur = std::error::Error::source(e);
    while let Some(err) = cur {
        if io_error.is_none() {
            io_error = err.downcast_ref::<io::Error>();
        }
        innermost = Some(err);
        cur = err.source();
    }
    let what = match io_error.map(|io| (io.kind(), io)) {
        Some((io::ErrorKind::TimedOut, _)) => return timed_out,
        Some((io::ErrorKind::ConnectionRefused, _)) => "connection refused".to_string(),
        Some((io::ErrorKind::ConnectionReset, _)) => "connection reset".to_string(),
        Some((_, io)) => io_message(io),
        None => innermost.map_or_else(|| "request failed".to_string(), |e| e.to_string()),
    };
    let what = match e.is_connect() && what != "connection refused" {
        true => format!("cannot connect: {what}"),
        false => what,
    };
    Failure {
        what,
        // A builder error (a bad url) will not get better.
        retry: !e.is_builder(),
        timed_out: false,
    }
}

/// What a command target gets of sessionctl's environment, whatever else is in it (the
/// secrets HTTP headers are read from, for one): enough to run a program and format text
/// as the user would.
pub const COMMAND_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_*", "TZ", "TMPDIR", "USER", "LOGNAME",
];

/// The environment of a command target: the variables of `vars` named in [`COMMAND_ENV`]
/// (`LC_*`: every `LC_` variable, `LC_ALL` included) or in the target's own `env` list.
fn command_env(
    passed: &[String],
    vars: impl Iterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    vars.filter(|(k, _)| {
        let Some(k) = k.to_str() else {
            return false;
        };
        passed.iter().any(|p| p == k)
            || COMMAND_ENV
                .iter()
                .any(|&allowed| match allowed.strip_suffix('*') {
                    Some(prefix) => k.starts_with(prefix),
                    None => k == allowed,
                })
    })
    .collect()
}

fn deliver_command(
    argv: &[String],
    env: &[(OsString, OsString)],
    timeout: Duration,
    payload: &serde_json::Value,
    key: Option<&str>,
) -> Tried {
    let Some((program, args)) = argv.split_first() else {
        return Tried::down(0, "argv is empty".into());
    };
    let mut input = match serde_json::to_vec(payload) {
        Ok(b) => b,
        Err(e) => return Tried::refused(0, format!("cannot encode the payload: {e}")),
    };
    input.push(b'\n');

    let mut cmd = Command::new(program);
    // Only what it needs: never sessionctl's whole environment.
    cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(k) = key {
        cmd.env("SESSIONCTL_DELIVERY_ID", k);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout kills whatever it started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Tried::down(1, format!("cannot run {program}: {}", io_message(&e))),
    };

    // Written from its own thread: a child that never reads stdin must not block us. When
    // the child dies the write fails with EPIPE and the thread ends.
    if let Some(mut stdin) = child.stdin.take() {
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let stderr_tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut readers = 0;
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, None, done_tx.clone());
        readers += 1;
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(err, Some(stderr_tail.clone()), done_tx.clone());
        readers += 1;
    }
    drop(done_tx);

    let mut poll = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(&mut child);
                return Tried::down(1, format!("cannot wait for {program}: {}", io_message(&e)));
            }
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            kill_group(&mut child);
            break None;
        }
        thread::sleep(poll.min(timeout - elapsed));
        poll = (poll * 2).min(Duration::from_millis(20));
    };

    // Let the readers take in what is left in the pipes; do not wait on a grandchild that
    // keeps them open.
    let grace = Instant::now();
    for _ in 0..readers {
        let left = READ_GRACE.saturating_sub(grace.elapsed());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }

    let Some(status) = status else {
        return Tried::down(1, format!("timed out after {}", format_duration(timeout)));
    };
    if status.success() {
        return Tried::delivered(1, "exited with status 0".into());
    }
    let what = match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => exit_signal(&status)
            .map(|sig| format!("killed by signal {sig}"))
            .unwrap_or_else(|| format!("failed: {status}")),
    };
    let tail = stderr_tail.lock().unwrap_or_else(|p| p.into_inner());
    let text = String::from_utf8_lossy(&tail);
    match text.lines().map(str::trim).rfind(|l| !l.is_empty()) {
        Some(line) => Tried::refused(1, format!("{what}: {line}")),
        None => Tried::refused(1, what),
    }
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn exit_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// SIGKILL the child's process group (the child and what it started), then reap it.
fn kill_group(child: &mut Child) {
    // The child is not reaped yet, so its pid, which is also its group id, is still ours.
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Read `r` to its end on a thread of its own, keeping the last `STDERR_TAIL` bytes in
/// `tail` if given; signal `done` at the end.
fn spawn_reader<R: Read + Send + 'static>(
    mut r: R,
    tail: Option<Arc<Mutex<Vec<u8>>>>,
    done: mpsc::Sender<()>,
) {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(tail) = &tail {
                        let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                        t.extend_from_slice(&buf[..n]);
                        if t.len() > STDERR_TAIL {
                            let cut = t.len() - STDERR_TAIL;
                            t.drain(..cut);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
}

#[cfg(test)]
mod tests {
    fn keyless<'a>(jobs: &[(&'a Target, &'a serde_json::Value)]) -> Vec<Job<'a>> {
        jobs.iter()
            .map(|&(target, payload)| Job {
                target,
                payload,
                key: None,
            })
            .collect()
    }

    use super::*;
    use serde_json::json;
    use std::collections::HashMap;
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    // ---- helpers --------------------------------------------------------------------

    const SECRET: &str = "Bearer s3cr3t-t0ken-do-not-print";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// Load `text` from a file and expect an error: one line, starting with the path.
    fn config_error(text: &str, getenv: &dyn Fn(&str) -> Option<String>) -> String {
        let (_dir, path) = write_config(text);
        let e = load(&path, true, getenv).expect_err("config should be rejected");
        let msg = e.to_string();
        let prefix = format!("{}: ", path.display());
        assert!(msg.starts_with(&prefix), "{msg:?} does not name the file");
        assert!(!msg.contains('\n'), "{msg:?} is not one line");
        msg[prefix.len()..].to_string()
    }

    fn http_target(name: &str, url: &str, timeout_ms: u64, retries: u32) -> Target {
        Target {
            name: name.into(),
            kind: TargetKind::Http {
                url: url.into(),
                headers: vec![],
                retries,
            },
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn command_target(argv: &[&str], timeout_ms: u64) -> Target {
        Target {
            name: "cmd".into(),
            kind: TargetKind::Command {
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: vec![],
            },
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn payload() -> serde_json::Value {
        json!({
            "event": {"sessionId": "ae3ade86-9fb7-4837-a009-6fcc1c41c22b",
                      "sessionKey": "agent:main:e2e-slow", "messageCount": 0,
                      "reason": "shutdown"},
            "ctx": {"sessionId": "ae3ade86-9fb7-4837-a009-6fcc1c41c22b",
                    "sessionKey": "agent:main:e2e-slow", "agentId": "main"}
        })
    }

    /// A loopback port that refuses connections: bound but never listening, and held for
    /// as long as the returned socket lives, so no other test can take it meanwhile.
    fn refused_port() -> (std::os::fd::OwnedFd, u16) {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket calls on a socket we own; the structs are plain old data.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as _;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
            let sa = &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr;
            assert_eq!(
                libc::bind(raw, sa, len),
                0,
                "bind: {}",
                io::Error::last_os_error()
            );
            assert_eq!(libc::getsockname(raw, sa, &mut len), 0);
            (fd, u16::from_be(addr.sin_port))
        }
    }

    // ---- a tiny HTTP/1.1 server -----------------------------------------------------

    #[derive(Debug, Clone)]
    struct Req {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Req {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    struct Reply {
        status: u16,
        body: String,
        delay: Duration,
        /// Never answer; hold the connection until the client gives up.
        hang: bool,
        /// Hang up without answering.
        close: bool,
    }

    fn status(code: u16) -> Reply {
        Reply {
            status: code,
            body: String::new(),
            delay: Duration::ZERO,
            hang: false,
            close: false,
        }
    }

    fn hang() -> Reply {
        Reply {
            hang: true,
            ..status(0)
        }
    }

    type Respond = dyn Fn(usize, &Req) -> Reply + Send + Sync;

    struct Server {
        addr: SocketAddr,
        reqs: Arc<Mutex<Vec<Req>>>,
        max_in_flight: Arc<AtomicUsize>,
    }

    impl Server {
        /// `respond(n, request)` answers the n-th request (0-based, in arrival order).
        fn start(respond: impl Fn(usize, &Req) -> Reply + Send + Sync + 'static) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let reqs = Arc::new(Mutex::new(Vec::new()));
            let in_flight = Arc::new(AtomicUsize::new(0));
            let max_in_flight = Arc::new(AtomicUsize::new(0));
            let respond: Arc<Respond> = Arc::new(respond);
            let (r, i, m) = (reqs.clone(), in_flight.clone(), max_in_flight.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    let (r, i, respond) = (r.clone(), i.clone(), respond.clone());
                    thread::spawn(move || handle(stream, &r, &i, &*respond));
                }
            });
            Server {
                addr,
                reqs,
                max_in_flight,
            }
        }

        fn script(statuses: &'static [u16]) -> Server {
            Server::start(move |n, _| status(statuses[n.min(statuses.len() - 1)]))
        }

        fn url(&self, path: &str) -> String {
            format!("http://{}{}", self.addr, path)
        }

        fn requests(&self) -> Vec<Req> {
            self.reqs.lock().unwrap().clone()
        }
    }

    fn handle(
        mut s: TcpStream,
        reqs: &Mutex<Vec<Req>>,
        in_flight: &AtomicUsize,
        respond: &Respond,
    ) {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = read_request(&mut s);
        let Some(req) = req else {
            in_flight.fetch_sub(1, Ordering::SeqCst);
            return;
        };
        let reply = {
            let mut all = reqs.lock().unwrap();
            let n = all.len();
            all.push(req.clone());
            drop(all);
            respond(n, &req)
        };
        if reply.hang {
            // Until the client hangs up (or the read timeout ends it).
            let mut buf = [0u8; 256];
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            in_flight.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        if reply.close {
            in_flight.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        thread::sleep(reply.delay);
        // Before answering: the client cannot start its next request before it has read
        // this answer, so the count never includes a finished exchange.
        in_flight.fetch_sub(1, Ordering::SeqCst);
        let head = format!(
            "HTTP/1.1 {} Scripted\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            reply.status,
            reply.body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(reply.body.as_bytes());
        let _ = s.flush();
    }

    fn read_request(s: &mut TcpStream) -> Option<Req> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let method = first.next()?.to_string();
        let path = first.next()?.to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < len {
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Some(Req {
            method,
            path,
            headers,
            body,
        })
    }

    // ---- config -----------------------------------------------------------------------

    const FULL: &str = r#"
concurrency = 4
idle = "6h"

[openclaw]
state_dirs = ["/srv/openclaw", "/home/u/.openclaw"]

[claude_mem]
data_dir = "/home/u/.claude-mem"

[[targets]]
name = "audit"
type = "http"
url = "http://127.0.0.1:8080/session_end"
timeout = "500ms"
retries = 3
[targets.headers]
X-Tenant = "AUDIT_TENANT"
Authorization = "AUDIT_TOKEN"

[[targets]]
name = "notify"
type = "command"
argv = ["/usr/bin/logger", "-t", "session_end"]
env = ["NOTIFY_TOKEN"]

[[targets]]
name = "plain_http-2"
type = "http"
url = "https://hooks.example.com/end"
"#;

    #[test]
    fn config_happy_path() {
        let (_dir, path) = write_config(FULL);
        let getenv = env(&[("AUDIT_TOKEN", SECRET), ("AUDIT_TENANT", "acme")]);
        let cfg = load(&path, true, &getenv).unwrap();
        assert_eq!(cfg.concurrency, 4);
        assert_eq!(cfg.idle.as_deref(), Some("6h"));
        assert_eq!(
            cfg.openclaw_state_dirs,
            vec![
                PathBuf::from("/srv/openclaw"),
                PathBuf::from("/home/u/.openclaw")
            ]
        );
        assert_eq!(
            cfg.claude_mem_dir,
            Some(PathBuf::from("/home/u/.claude-mem"))
        );
        assert_eq!(cfg.targets.len(), 3);

        let audit = &cfg.targets[0];
        assert_eq!(audit.name, "audit");
        assert_eq!(audit.kind_name(), "http");
        assert_eq!(audit.timeout, Duration::from_millis(500));
        let TargetKind::Http {
            url,
            headers,
            retries,
        } = &audit.kind
        else {
            panic!("{audit:?}")
        };
        assert_eq!(url, "http://127.0.0.1:8080/session_end");
        assert_eq!(*retries, 3);
        // File order, values from the environment.
        assert_eq!(
            headers,
            &vec![
                Header::new("X-Tenant", "AUDIT_TENANT", "acme"),
                Header::new("Authorization", "AUDIT_TOKEN", SECRET),
            ]
        );
        assert_eq!(headers[1].value, SECRET);

        let notify = &cfg.targets[1];
        assert_eq!(notify.kind_name(), "command");
        assert_eq!(notify.timeout, DEFAULT_COMMAND_TIMEOUT);
        assert_eq!(
            notify.kind,
            TargetKind::Command {
                argv: vec!["/usr/bin/logger".into(), "-t".into(), "session_end".into()],
                env: vec!["NOTIFY_TOKEN".into()],
            }
        );

        let plain = &cfg.targets[2];
        assert_eq!(plain.timeout, DEFAULT_HTTP_TIMEOUT);
        assert_eq!(
            plain.kind,
            TargetKind::Http {
                url: "https://hooks.example.com/end".into(),
                headers: vec![],
                retries: DEFAULT_RETRIES
            }
        );
    }

    #[test]
    fn config_empty_file_and_defaults() {
        let (_dir, path) = write_config("# nothing yet\n");
        let cfg = load(&path, true, &no_env).unwrap();
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.concurrency, 8);
        assert!(cfg.targets.is_empty());
    }

    #[test]
    fn config_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessionctl/config.toml");
        assert_eq!(load(&path, false, &no_env).unwrap(), Config::default());
        let e = load(&path, true, &no_env).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("{}: cannot read: No such file or directory", path.display())
        );
    }

    #[test]
    fn config_unreadable_default_file_is_still_an_error() {
        // A directory where the file should be: not "missing", so not silently ignored.
        let dir = tempfile::tempdir().unwrap();
        let e = load(dir.path(), false, &no_env).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read: ", dir.path().display())),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[test]
    fn config_toml_syntax_error_is_one_line_with_position() {
        let msg = config_error("concurrency = 2\n\nidle = \n", &no_env);
        assert!(
            msg.starts_with("TOML parse error at line 3, column 8: "),
            "{msg}"
        );
        // A multi-line toml message is squashed.
        let msg = config_error("[[targets]]\nname = \"a\nb\"\n", &no_env);
        assert!(
            msg.starts_with("TOML parse error at line 2, column "),
            "{msg}"
        );
    }

    #[test]
    fn config_unknown_keys_are_errors() {
        let msg = config_error("concurency = 2\n", &no_env);
        assert!(
            msg.starts_with("TOML parse error at line 1, column 1: "),
            "{msg}"
        );
        assert!(msg.contains("unknown field `concurency`"), "{msg}");

        let msg = config_error(
            "[[targets]]\nname = \"a\"\ntype = \"http\"\nurl = \"http://x/\"\nmethod = \"PUT\"\n",
            &no_env,
        );
        assert!(msg.contains("line 5"), "{msg}");
        assert!(msg.contains("unknown field `method`"), "{msg}");

        let msg = config_error("[openclaw]\nstate_dir = \"/x\"\n", &no_env);
        assert!(msg.contains("unknown field `state_dir`"), "{msg}");
        let msg = config_error("[claude_mem]\ndir = \"/x\"\n", &no_env);
        assert!(msg.contains("unknown field `dir`"), "{msg}");
    }

    #[test]
    fn config_wrong_value_types() {
        let msg = config_error("concurrency = \"8\"\n", &no_env);
        assert!(
            msg.starts_with("TOML parse error at line 1, column 15: "),
            "{msg}"
        );
        let msg = config_error(
            "[[targets]]\nname = \"a\"\ntype = \"command\"\nargv = \"/bin/true\"\n",
            &no_env,
        );
        assert!(msg.contains("line 4"), "{msg}");
        let msg = config_error(
            "[[targets]]\nname = \"a\"\ntype = \"http\"\nurl = \"http://x/\"\n[targets.headers]\nA = 1\n",
            &no_env,
        );
        assert!(msg.contains("line 6"), "{msg}");
    }

    const AUDIT: &str =
        "[[targets]]\nname = \"audit\"\ntype = \"http\"\nurl = \"http://127.0.0.1:8080/x\"\n";

    #[test]
    fn config_missing_header_variable() {
        let text = format!("{AUDIT}[targets.headers]\nAuthorization = \"AUDIT_TOKEN\"\n");
        let msg = config_error(&text, &no_env);
        assert_eq!(
            msg,
            "target `audit`: header Authorization reads $AUDIT_TOKEN, which is not set"
        );
        let msg = config_error(&text, &env(&[("AUDIT_TOKEN", "")]));
        assert_eq!(
            msg,
            "target `audit`: header Authorization reads $AUDIT_TOKEN, which is empty"
        );
        let bad_value = "Bearer abc\r\nX-Injected: 1";
        let msg = config_error(&text, &env(&[("AUDIT_TOKEN", bad_value)]));
        assert!(
            msg.contains("characters an HTTP header cannot carry"),
            "{msg}"
        );
        assert!(!msg.contains("abc"), "{msg}");
    }

    #[test]
    fn config_secret_written_in_place_of_variable_name_is_not_echoed() {
        let text = format!("{AUDIT}[targets.headers]\nAuthorization = \"{SECRET}\"\n");
        let msg = config_error(&text, &no_env);
        assert!(
            msg.contains("must be the name of an environment variable"),
            "{msg}"
        );
        assert!(!msg.contains("s3cr3t"), "{msg}");
    }

    #[test]
    fn config_bad_headers() {
        let msg = config_error(
            &format!("{AUDIT}[targets.headers]\n\"Bad Name\" = \"T\"\n"),
            &env(&[("T", "v")]),
        );
        assert!(msg.contains("not a valid HTTP header name"), "{msg}");
        let msg = config_error(
            &format!("{AUDIT}[targets.headers]\nContent-Length = \"T\"\n"),
            &env(&[("T", "1")]),
        );
        assert_eq!(
            msg,
            "target `audit`: header Content-Length is set by sessionctl and cannot be configured"
        );
        let msg = config_error(
            &format!("{AUDIT}[targets.headers]\nX-A = \"T\"\nx-a = \"T\"\n"),
            &env(&[("T", "v")]),
        );
        assert_eq!(msg, "target `audit`: header x-a is set twice");
    }

    #[test]
    fn config_duplicate_names() {
        let text = format!("{AUDIT}{AUDIT}");
        let msg = config_error(&text, &no_env);
        assert_eq!(msg, "target `audit` is defined twice (targets #1 and #2)");
    }

    #[test]
    fn config_bad_names() {
        let msg = config_error(
            "[[targets]]\ntype = \"http\"\nurl = \"http://x/\"\n",
            &no_env,
        );
        assert_eq!(msg, "target #1: missing `name`");
        let msg = config_error("[[targets]]\nname = \"a b\"\ntype = \"http\"\n", &no_env);
        assert_eq!(
            msg,
            "target #1: name \"a b\" may only use A-Z, a-z, 0-9, _ and -"
        );
        let msg = config_error("[[targets]]\nname = \"\"\ntype = \"http\"\n", &no_env);
        assert!(msg.starts_with("target #1: name \"\""), "{msg}");
        let msg = config_error("[[targets]]\nname = \"a\\nb\"\ntype = \"http\"\n", &no_env);
        assert!(msg.contains("\"a\\nb\""), "{msg}");
    }

    #[test]
    fn config_types_and_their_fields() {
        let msg = config_error("[[targets]]\nname = \"a\"\nurl = \"http://x/\"\n", &no_env);
        assert_eq!(msg, "target `a`: missing `type` (http or command)");
        let msg = config_error("[[targets]]\nname = \"a\"\ntype = \"grpc\"\n", &no_env);
        assert_eq!(
            msg,
            "target `a`: unknown type \"grpc\" (use http or command)"
        );
        let msg = config_error(&format!("{AUDIT}argv = [\"/bin/true\"]\n"), &no_env);
        assert_eq!(msg, "target `audit`: `argv` is only for command targets");
        let msg = config_error("[[targets]]\nname = \"a\"\ntype = \"http\"\n", &no_env);
        assert_eq!(msg, "target `a`: missing `url`");
        let cmd = "[[targets]]\nname = \"n\"\ntype = \"command\"\n";
        let msg = config_error(
            &format!("{cmd}argv = [\"/bin/true\"]\nurl = \"http://x/\"\n"),
            &no_env,
        );
        assert_eq!(msg, "target `n`: `url` is only for http targets");
        let msg = config_error(
            &format!("{cmd}argv = [\"/bin/true\"]\nretries = 1\n"),
            &no_env,
        );
        assert_eq!(msg, "target `n`: `retries` is only for http targets");
        let msg = config_error(
            &format!("{cmd}argv = [\"/bin/true\"]\n[targets.headers]\nA = \"B\"\n"),
            &no_env,
        );
        assert_eq!(msg, "target `n`: `headers` is only for http targets");
        let msg = config_error(cmd, &no_env);
        assert_eq!(msg, "target `n`: missing `argv`");
        let msg = config_error(&format!("{AUDIT}env = [\"X\"]\n"), &no_env);
        assert_eq!(msg, "target `audit`: `env` is only for command targets");
        let msg = config_error(
            &format!("{cmd}argv = [\"/bin/true\"]\nenv = [\"OK_1\", \"s3cret value\"]\n"),
            &no_env,
        );
        assert_eq!(
            msg,
            "target `n`: env: \"s3cret value\" is not the name of an environment variable \
             (letters, digits and _)"
        );
    }

    #[test]
    fn config_empty_argv() {
        let cmd = "[[targets]]\nname = \"n\"\ntype = \"command\"\n";
        let msg = config_error(&format!("{cmd}argv = []\n"), &no_env);
        assert_eq!(msg, "target `n`: argv is empty");
        let msg = config_error(&format!("{cmd}argv = [\"\", \"x\"]\n"), &no_env);
        assert_eq!(msg, "target `n`: argv[0] is empty");
    }

    #[test]
    fn config_bad_urls() {
        let t = "[[targets]]\nname = \"a\"\ntype = \"http\"\n";
        let msg = config_error(&format!("{t}url = \"ftp://127.0.0.1/x\"\n"), &no_env);
        assert_eq!(
            msg,
            "target `a`: url ftp://127.0.0.1/x must start with http:// or https://"
        );
        let msg = config_error(&format!("{t}url = \"127.0.0.1:8080/x\"\n"), &no_env);
        assert!(msg.starts_with("target `a`: url"), "{msg}");
        let msg = config_error(&format!("{t}url = \"not a url\"\n"), &no_env);
        assert!(
            msg.starts_with("target `a`: url is not a valid URL: "),
            "{msg}"
        );
        // A password in the url is not repeated.
        let msg = config_error(&format!("{t}url = \"ftp://u:hunter2@h/x\"\n"), &no_env);
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn config_bad_durations_and_numbers() {
        for (timeout, want) in [
            (
                "5 parsecs",
                "timeout: `5 parsecs` has an unknown unit `parsecs` (units: ms, s, m, h, d)",
            ),
            (
                "5",
                "timeout: `5` has no unit; did you mean 5s? (units: ms, s, m, h, d)",
            ),
            (
                "s",
                "timeout: `s` is not a duration (such as 90s, 30m, 1h30m or 2d)",
            ),
            (
                "-1s",
                "timeout: `-1s` is negative; a duration is a length of time, such as 1s",
            ),
            ("0s", "timeout \"0s\" must be more than zero"),
            ("2h", "timeout \"2h\" is longer than 1h"),
            (
                "99999999999999999999h",
                "timeout: `99999999999999999999h` is too large",
            ),
            (
                "999999999999h",
                "timeout \"999999999999h\" is longer than 1h",
            ),
        ] {
            let msg = config_error(&format!("{AUDIT}timeout = \"{timeout}\"\n"), &no_env);
            assert_eq!(msg, format!("target `audit`: {want}"));
        }
        let msg = config_error(&format!("{AUDIT}retries = 11\n"), &no_env);
        assert_eq!(
            msg,
            "target `audit`: retries must be between 0 and 10, not 11"
        );
        let msg = config_error(&format!("{AUDIT}retries = -1\n"), &no_env);
        assert_eq!(
            msg,
            "target `audit`: retries must be between 0 and 10, not -1"
        );
        for n in ["0", "65", "-3"] {
            let msg = config_error(&format!("concurrency = {n}\n"), &no_env);
            assert_eq!(
                msg,
                format!("concurrency must be between 1 and 64, not {n}")
            );
        }
        let msg = config_error("idle = \"6 fortnights\"\n", &no_env);
        assert!(msg.starts_with("idle: "), "{msg}");
        let msg = config_error("[openclaw]\nstate_dirs = [\"\"]\n", &no_env);
        assert_eq!(msg, "openclaw.state_dirs: a state dir is empty");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_timeout("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_timeout("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_timeout("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_timeout("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(5)), "5s");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
    }

    #[test]
    fn header_values_are_redacted_in_debug_and_display() {
        let (_dir, path) = write_config(FULL);
        let getenv = env(&[("AUDIT_TOKEN", SECRET), ("AUDIT_TENANT", "acme")]);
        let cfg = load(&path, true, &getenv).unwrap();
        let debug = format!("{cfg:?} {cfg:#?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("AUDIT_TOKEN"), "{debug}");

        assert_eq!(
            cfg.targets[0].to_string(),
            "audit: http POST http://127.0.0.1:8080/session_end (timeout 500ms, 3 retries, \
             headers X-Tenant: $AUDIT_TENANT, Authorization: $AUDIT_TOKEN)"
        );
        assert_eq!(
            cfg.targets[1].to_string(),
            "notify: command /usr/bin/logger -t session_end (timeout 10s, env NOTIFY_TOKEN)"
        );
        assert_eq!(
            cfg.targets[2].to_string(),
            "plain_http-2: http POST https://hooks.example.com/end (timeout 5s, 2 retries)"
        );
    }

    #[test]
    fn display_quotes_argv_and_hides_url_passwords() {
        let t = command_target(&["/opt/my hook", "it's", "$(x)", ""], 1500);
        assert_eq!(
            t.to_string(),
            r#"cmd: command '/opt/my hook' 'it'\''s' '$(x)' '' (timeout 1500ms)"#
        );
        let t = http_target("h", "https://user:hunter2@example.com/x", 5000, 1);
        assert_eq!(
            t.to_string(),
            "h: http POST https://user:***@example.com/x (timeout 5s, 1 retry)"
        );
    }

    // ---- http delivery ----------------------------------------------------------------

    #[test]
    fn http_2xx_is_delivered_once_with_the_exact_json() {
        let server = Server::script(&[204]);
        let mut target = http_target("audit", &server.url("/session_end"), 2000, 2);
        if let TargetKind::Http { headers, .. } = &mut target.kind {
            headers.push(Header::new("Authorization", "AUDIT_TOKEN", SECRET));
        }
        let p = payload();
        let out = deliver(&target, &p, &http_client());
        assert!(out.ok, "{out:?}");
        assert_eq!(out.attempts, 1);
        assert_eq!(out.detail, "HTTP 204 after 1 attempt");

        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/session_end");
        assert_eq!(r.body, serde_json::to_vec(&p).unwrap());
        // Key order as built (serde_json preserve_order).
        assert!(String::from_utf8_lossy(&r.body).starts_with(r#"{"event":{"sessionId":"#));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("authorization"), Some(SECRET));
        assert_eq!(
            r.header("user-agent"),
            Some(concat!("sessionctl/", env!("CARGO_PKG_VERSION")))
        );
    }

    #[test]
    fn http_500_then_200_is_delivered_after_two_attempts() {
        let server = Server::script(&[500, 200]);
        let target = http_target("a", &server.url("/h"), 2000, 2);
        let out = deliver(&target, &payload(), &http_client());
        assert!(out.ok, "{out:?}");
        assert_eq!(out.attempts, 2);
        assert_eq!(out.detail, "HTTP 200 after 2 attempts");
        assert_eq!(server.requests().len(), 2);
        assert!(out.elapsed_ms >= 200, "no backoff: {out:?}");
    }

    #[test]
    fn http_429_and_503_are_retried_until_retries_run_out() {
        let server = Server::script(&[429, 503, 500]);
        let target = http_target("a", &server.url("/h"), 2000, 2);
        let out = deliver(&target, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(out.attempts, 3);
        assert_eq!(out.detail, "HTTP 500 after 3 attempts");
        assert_eq!(server.requests().len(), 3);
        // 200 ms + 400 ms of backoff.
        assert!(out.elapsed_ms >= 600, "{out:?}");
    }

    #[test]
    fn http_4xx_is_final() {
        let server = Server::script(&[400, 200]);
        let target = http_target("a", &server.url("/h"), 2000, 5);
        let out = deliver(&target, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(out.attempts, 1);
        assert_eq!(out.detail, "HTTP 400 after 1 attempt");
        assert_eq!(server.requests().len(), 1);
    }

    #[test]
    fn http_redirects_are_not_followed() {
        let server = Server::script(&[307, 200]);
        let target = http_target("a", &server.url("/h"), 2000, 2);
        let out = deliver(&target, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(
            out.detail,
            "HTTP 307 (redirects are not followed) after 1 attempt"
        );
        assert_eq!(server.requests().len(), 1);
    }

    #[test]
    fn http_connection_refused_is_retried() {
        let (_socket, port) = refused_port();
        let url = format!("http://127.0.0.1:{port}/h");
        let target = http_target("a", &url, 1000, 2);
        let out = deliver(&target, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(out.attempts, 3);
        assert_eq!(out.detail, "connection refused after 3 attempts");
        assert!(out.elapsed_ms >= 600, "{out:?}");
        assert!(!out.detail.contains("127.0.0.1"), "the url leaked: {out:?}");
    }

    #[test]
    fn http_hanging_server_times_out() {
        let server = Server::start(|_, _| hang());
        let target = http_target("a", &server.url("/h"), 300, 0);
        let t0 = Instant::now();
        let out = deliver(&target, &payload(), &http_client());
        let took = t0.elapsed();
        assert!(!out.ok);
        assert_eq!(out.attempts, 1);
        assert_eq!(out.detail, "timed out after 300ms (1 attempt)");
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }

    #[test]
    fn http_timeouts_are_retried_with_backoff_capped_by_the_timeout() {
        let server = Server::start(|n, _| if n == 0 { hang() } else { status(201) });
        let target = http_target("a", &server.url("/h"), 150, 1);
        let out = deliver(&target, &payload(), &http_client());
        assert!(out.ok, "{out:?}");
        assert_eq!(out.detail, "HTTP 201 after 2 attempts");
        // 150 ms timeout, then a backoff of min(200 ms, timeout) = 150 ms.
        assert!(out.elapsed_ms >= 300, "{out:?}");
        assert_eq!(
            backoff(1, Duration::from_secs(5)),
            Duration::from_millis(200)
        );
        assert_eq!(
            backoff(2, Duration::from_secs(5)),
            Duration::from_millis(400)
        );
        assert_eq!(
            backoff(4, Duration::from_secs(5)),
            Duration::from_millis(1600)
        );
        assert_eq!(backoff(5, Duration::from_secs(5)), Duration::from_secs(2));
        assert_eq!(backoff(60, Duration::from_secs(5)), Duration::from_secs(2));
        assert_eq!(
            backoff(3, Duration::from_millis(300)),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn http_other_failures_are_described_without_the_url() {
        let server = Server::start(|n, _| match n {
            0 => Reply {
                close: true,
                ..status(0)
            },
            _ => status(200),
        });
        let target = http_target("a", &server.url("/h"), 2000, 0);
        let out = deliver(&target, &payload(), &http_client());
        assert!(!out.ok);
        assert!(out.detail.ends_with(" after 1 attempt"), "{out:?}");
        assert!(!out.detail.contains("127.0.0.1"), "{out:?}");
        // Retried like any other transport failure: the next request gets a 200.
        let target = http_target("a", &server.url("/h"), 2000, 1);
        let out = deliver(&target, &payload(), &http_client());
        assert_eq!(out.detail, "HTTP 200 after 1 attempt");
        let again = Server::start(|n, _| Reply {
            close: n == 0,
            ..status(200)
        });
        let target = http_target("a", &again.url("/h"), 2000, 1);
        let out = deliver(&target, &payload(), &http_client());
        assert_eq!(out.detail, "HTTP 200 after 2 attempts");

        let target = http_target("a", "http://hooks.sessionctl.invalid/end", 2000, 0);
        let out = deliver(&target, &payload(), &build_client(&no_env));
        assert!(!out.ok);
        assert!(out.detail.starts_with("cannot connect: "), "{out:?}");
        assert!(!out.detail.contains("sessionctl.invalid/end"), "{out:?}");
    }

    #[test]
    fn http_secret_never_reaches_the_detail() {
        // The server echoes every request header into its error body, and its status line
        // reason, body and all are ignored by deliver.
        let server = Server::start(|n, req| {
            let echoed: String = req
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\n"))
                .collect();
            Reply {
                body: echoed,
                ..status(if n == 0 { 500 } else { 401 })
            }
        });
        let getenv = env(&[("AUDIT_TOKEN", SECRET)]);
        let text = format!(
            "[[targets]]\nname = \"audit\"\ntype = \"http\"\nurl = \"{}\"\ntimeout = \"2s\"\n\
             [targets.headers]\nAuthorization = \"AUDIT_TOKEN\"\n",
            server.url("/h")
        );
        let (_dir, path) = write_config(&text);
        let cfg = load(&path, true, &getenv).unwrap();
        let out = deliver(&cfg.targets[0], &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(out.detail, "HTTP 401 after 2 attempts");
        let reqs = server.requests();
        assert_eq!(reqs[0].header("authorization"), Some(SECRET));
        let all = format!("{out:?} {} {:?}", cfg.targets[0], cfg.targets[0]);
        assert!(!all.contains("s3cr3t"), "{all}");

        // And if some error message ever quoted the value, it is blanked out.
        let cleaned = clean_detail(&format!("oops: {SECRET}\nmore"), &cfg.targets[0]);
        assert_eq!(cleaned, "oops: <redacted> more");
    }

    #[test]
    fn http_proxies_from_the_environment_skip_loopback() {
        let proxy = Server::script(&[200]);
        let direct = Server::script(&[204]);
        let proxy_url = format!("http://{}", proxy.addr);
        let client = build_client(&env(&[("HTTP_PROXY", &proxy_url)]));

        // Loopback goes direct.
        let out = deliver(
            &http_target("a", &direct.url("/d"), 2000, 0),
            &payload(),
            &client,
        );
        assert_eq!(out.detail, "HTTP 204 after 1 attempt");
        assert_eq!(direct.requests().len(), 1);
        assert!(proxy.requests().is_empty());

        // Anything else goes through the proxy, as reqwest would do by default.
        let far = http_target("b", "http://hooks.sessionctl.invalid/end", 2000, 0);
        let out = deliver(&far, &payload(), &client);
        assert_eq!(out.detail, "HTTP 200 after 1 attempt");
        let reqs = proxy.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].path, "http://hooks.sessionctl.invalid/end");

        // NO_PROXY is honoured too.
        let client = build_client(&env(&[
            ("HTTP_PROXY", &proxy_url),
            ("NO_PROXY", "sessionctl.invalid"),
        ]));
        let out = deliver(&far, &payload(), &client);
        assert!(!out.ok);
        assert_eq!(proxy.requests().len(), 1);
    }

    // ---- command delivery -------------------------------------------------------------

    #[test]
    fn command_gets_the_exact_payload_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("got.json");
        let f = file.to_str().unwrap();
        let target = command_target(&["/bin/sh", "-c", "cat > \"$1\"", "sh", f], 5000);
        let p = payload();
        let out = deliver(&target, &p, &http_client());
        assert!(out.ok, "{out:?}");
        assert_eq!(out.attempts, 1);
        assert_eq!(out.detail, "exited with status 0");
        let mut want = serde_json::to_vec(&p).unwrap();
        want.push(b'\n');
        assert_eq!(std::fs::read(&file).unwrap(), want);
    }

    #[test]
    fn command_payload_is_never_interpreted_by_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let pwned = dir.path().join("pwned");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "still here").unwrap();
        let hostile = format!(
            "$(touch {p}) `touch {p}`; touch {p}; rm -rf {v} && touch {p} | touch {p}",
            p = pwned.display(),
            v = victim.display()
        );
        let p = json!({"event": {"sessionId": hostile, "sessionKey": "'; rm -rf / #"}});
        let out = deliver(&command_target(&["/bin/cat"], 5000), &p, &http_client());
        assert!(out.ok, "{out:?}");
        assert!(!pwned.exists());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "still here");
    }

    #[test]
    fn command_failure_reports_status_and_last_stderr_line() {
        let t = command_target(
            &[
                "/bin/sh",
                "-c",
                "echo first >&2; echo 'boom: store is locked' >&2; echo; exit 3",
            ],
            5000,
        );
        let out = deliver(&t, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(out.attempts, 1);
        assert_eq!(out.detail, "exited with status 3: boom: store is locked");

        let t = command_target(&["/bin/sh", "-c", "exit 1"], 5000);
        let out = deliver(&t, &payload(), &http_client());
        assert_eq!(out.detail, "exited with status 1");

        let t = command_target(&["/bin/sh", "-c", "kill -TERM $$"], 5000);
        let out = deliver(&t, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(out.detail, "killed by signal 15");
    }

    #[test]
    fn command_stderr_is_bounded() {
        // 200 KiB of noise, then the line that matters.
        let t = command_target(
            &["/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do printf '%0100d\\n' 0 >&2; i=$((i+1)); done; echo 'the real error' >&2; exit 2"],
            5000,
        );
        let out = deliver(&t, &payload(), &http_client());
        assert_eq!(out.detail, "exited with status 2: the real error");
        assert!(out.detail.len() < STDERR_TAIL);
    }

    #[test]
    fn command_missing_executable() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-hook");
        let t = command_target(&[missing.to_str().unwrap(), "x"], 5000);
        let out = deliver(&t, &payload(), &http_client());
        assert!(!out.ok);
        assert_eq!(
            out.detail,
            format!(
                "cannot run {}: No such file or directory",
                missing.display()
            )
        );

        // Not executable.
        let script = dir.path().join("hook.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        let t = command_target(&[script.to_str().unwrap()], 5000);
        let out = deliver(&t, &payload(), &http_client());
        assert_eq!(
            out.detail,
            format!("cannot run {}: Permission denied", script.display())
        );
    }

    #[test]
    fn command_env_keeps_only_what_a_command_needs() {
        let vars = [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/u"),
            ("LANG", "de_DE.UTF-8"),
            ("LC_ALL", "C"),
            ("LC_TIME", "C"),
            ("TZ", "UTC"),
            ("TMPDIR", "/tmp/u"),
            ("USER", "u"),
            ("LOGNAME", "u"),
            ("AUDIT_TOKEN", SECRET),
            ("AWS_SECRET_ACCESS_KEY", "xyz"),
            ("NOTIFY_TOKEN", "for-the-hook"),
            ("PATHOLOGICAL", "not PATH"),
            ("XLC_ALL", "not LC_"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let got: Vec<String> = command_env(&["NOTIFY_TOKEN".into()], vars.into_iter())
            .into_iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        assert_eq!(
            got,
            [
                "PATH=/usr/bin:/bin",
                "HOME=/home/u",
                "LANG=de_DE.UTF-8",
                "LC_ALL=C",
                "LC_TIME=C",
                "TZ=UTC",
                "TMPDIR=/tmp/u",
                "USER=u",
                "LOGNAME=u",
                "NOTIFY_TOKEN=for-the-hook",
            ]
        );
    }

    #[test]
    fn command_runs_with_exactly_the_environment_it_is_given() {
        // The test process has CARGO_* and whatever else in its environment; none of it
        // may reach the command.
        assert!(std::env::vars_os().any(|(k, _)| k == "CARGO_PKG_NAME"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("env");
        let env = [("PATH", "/usr/bin:/bin"), ("NOTIFY_TOKEN", "t")]
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let script = format!("env -0 > '{}'", file.display());
        let argv = vec!["/bin/sh".to_string(), "-c".into(), script];
        let tried = deliver_command(&argv, &env, Duration::from_secs(5), &payload(), Some("k-1"));
        assert!(tried.ok, "{}", tried.detail);
        let text = std::fs::read_to_string(&file).unwrap();
        let mut got: Vec<&str> = text.split('\0').filter(|l| !l.is_empty()).collect();
        got.sort();
        // sh adds PWD (and may add SHLVL, _) itself; nothing else is there.
        got.retain(|l| !["PWD=", "SHLVL=", "_="].iter().any(|p| l.starts_with(p)));
        assert_eq!(
            got,
            [
                "NOTIFY_TOKEN=t",
                "PATH=/usr/bin:/bin",
                "SESSIONCTL_DELIVERY_ID=k-1"
            ]
        );
    }

    /// Alive and not a zombie.
    fn running(pid: i32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } != 0 {
            return false;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => true,
        }
    }

    #[test]
    fn command_timeout_kills_it_in_time() {
        let t = command_target(&["sleep", "30"], 300);
        let t0 = Instant::now();
        let out = deliver(&t, &payload(), &http_client());
        let took = t0.elapsed();
        assert!(!out.ok);
        assert_eq!(out.detail, "timed out after 300ms");
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }

    #[test]
    fn command_timeout_kills_what_it_started_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let t = command_target(
            &[
                "/bin/sh",
                "-c",
                "sleep 30 & echo $! > \"$1\"; wait",
                "sh",
                pidfile.to_str().unwrap(),
            ],
            300,
        );
        let t0 = Instant::now();
        let out = deliver(&t, &payload(), &http_client());
        assert!(
            t0.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(out.detail, "timed out after 300ms");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Reparented and reaped by init shortly after; a zombie counts as gone.
        let deadline = Instant::now() + Duration::from_secs(2);
        while running(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(!running(pid), "grandchild {pid} survived the timeout");
    }

    #[test]
    fn command_that_ignores_stdin_cannot_deadlock() {
        // 4 MiB: far more than a pipe buffer.
        let big = json!({"event": {"blob": "x".repeat(4 << 20)}});
        let t = command_target(&["/bin/sh", "-c", "exit 0"], 5000);
        let t0 = Instant::now();
        let out = deliver(&t, &big, &http_client());
        assert!(out.ok, "{out:?}");
        assert!(t0.elapsed() < Duration::from_secs(2));

        let t = command_target(&["sleep", "30"], 300);
        let out = deliver(&t, &big, &http_client());
        assert_eq!(out.detail, "timed out after 300ms");
    }

    #[test]
    fn command_leaving_a_background_process_does_not_hold_us() {
        // The backgrounded sleep keeps stdout and stderr open after sh exits.
        let t = command_target(&["/bin/sh", "-c", "sleep 3 & exit 0"], 5000);
        let t0 = Instant::now();
        let out = deliver(&t, &payload(), &http_client());
        assert!(out.ok, "{out:?}");
        assert!(
            t0.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t0.elapsed()
        );
    }

    // ---- deliver_all --------------------------------------------------------------------

    #[test]
    fn deliver_all_respects_the_concurrency_bound() {
        // The first request is held until a second one arrives (proof that two run at
        // once); a third would arrive meanwhile too if the bound were not kept.
        let arrived = Arc::new(AtomicUsize::new(0));
        let seen = arrived.clone();
        let server = Server::start(move |n, _| {
            seen.fetch_add(1, Ordering::SeqCst);
            let t0 = Instant::now();
            while n == 0 && seen.load(Ordering::SeqCst) < 2 && t0.elapsed() < Duration::from_secs(3)
            {
                thread::sleep(Duration::from_millis(5));
            }
            Reply {
                delay: Duration::from_millis(50),
                ..status(200)
            }
        });
        let target = http_target("a", &server.url("/h"), 5000, 0);
        let payloads: Vec<serde_json::Value> = (0..6).map(|i| json!({"i": i})).collect();
        let jobs: Vec<(&Target, &serde_json::Value)> =
            payloads.iter().map(|p| (&target, p)).collect();
        let done = Mutex::new(Vec::new());
        let outs = deliver_all(&keyless(&jobs), 2, &|i, o| {
            done.lock().unwrap().push((i, o.ok))
        });
        assert!(outs.iter().all(|o| o.ok), "{outs:?}");
        assert_eq!(arrived.load(Ordering::SeqCst), 6);
        let max = server.max_in_flight.load(Ordering::SeqCst);
        assert!(max <= 2, "{max} requests in flight at once");
        assert_eq!(max, 2, "the two workers never overlapped");
        // Each payload went out exactly once.
        let mut bodies: Vec<Vec<u8>> = server.requests().into_iter().map(|r| r.body).collect();
        bodies.sort();
        let mut want: Vec<Vec<u8>> = payloads
            .iter()
            .map(|p| serde_json::to_vec(p).unwrap())
            .collect();
        want.sort();
        assert_eq!(bodies, want);
        let mut done = done.into_inner().unwrap();
        done.sort();
        assert_eq!(done, (0..6).map(|i| (i, true)).collect::<Vec<_>>());
    }

    #[test]
    fn deliver_all_returns_outcomes_in_job_order() {
        // Later jobs answer sooner, and odd jobs fail, so completion order differs from
        // job order and every outcome is recognisable.
        let server = Server::start(|_, req| {
            let i: u64 = req.path.trim_start_matches('/').parse().unwrap();
            Reply {
                delay: Duration::from_millis(20 * (6 - i)),
                ..status(if i % 2 == 0 { 200 } else { 400 })
            }
        });
        let targets: Vec<Target> = (0..6)
            .map(|i| http_target(&format!("t{i}"), &server.url(&format!("/{i}")), 5000, 0))
            .collect();
        let p = payload();
        let jobs: Vec<(&Target, &serde_json::Value)> = targets.iter().map(|t| (t, &p)).collect();
        let order = Mutex::new(Vec::new());
        let outs = deliver_all(&keyless(&jobs), 6, &|i, _| order.lock().unwrap().push(i));
        let oks: Vec<bool> = outs.iter().map(|o| o.ok).collect();
        assert_eq!(oks, [true, false, true, false, true, false]);
        assert_eq!(outs[1].detail, "HTTP 400 after 1 attempt");
        let mut order = order.into_inner().unwrap();
        assert_eq!(order.len(), 6);
        order.sort();
        assert_eq!(order, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn deliver_all_one_slow_target_does_not_stall_the_others() {
        let slow = Server::start(|_, _| hang());
        let fast = Server::script(&[204]);
        let slow_t = http_target("slow", &slow.url("/h"), 300, 0);
        let fast_t = http_target("fast", &fast.url("/h"), 2000, 0);
        let p = payload();
        let mut jobs = vec![(&slow_t, &p)];
        jobs.extend((0..5).map(|_| (&fast_t, &p)));
        let t0 = Instant::now();
        let finished: Mutex<Vec<(usize, Duration)>> = Mutex::new(Vec::new());
        let outs = deliver_all(&keyless(&jobs), 2, &|i, _| {
            finished.lock().unwrap().push((i, t0.elapsed()))
        });
        let total = t0.elapsed();
        assert!(total < Duration::from_secs(2), "{total:?}");
        assert_eq!(outs[0].detail, "timed out after 300ms (1 attempt)");
        assert!(outs[1..].iter().all(|o| o.ok), "{outs:?}");
        let finished = finished.into_inner().unwrap();
        let slow_at = finished.iter().find(|(i, _)| *i == 0).unwrap().1;
        assert!(slow_at >= Duration::from_millis(300));
        for (i, at) in &finished {
            if *i != 0 {
                assert!(
                    *at < slow_at,
                    "job {i} done at {at:?}, after the slow one at {slow_at:?}"
                );
            }
        }
        assert_eq!(fast.requests().len(), 5);
    }

    /// `n` jobs for each of `targets`, interleaved as `close` plans them (per session, one
    /// job per target).
    fn interleaved<'a>(targets: &[&'a Target], p: &'a serde_json::Value, n: usize) -> Vec<Job<'a>> {
        (0..n)
            .flat_map(|_| {
                targets.iter().map(move |&target| Job {
                    target,
                    payload: p,
                    key: None,
                })
            })
            .collect()
    }

    const GAVE_UP: &str =
        "not attempted: target dead failed 3 times in a row this run; left for the next run";

    #[test]
    fn deliver_all_gives_up_on_a_dead_target_after_three_failures() {
        let dead = Server::start(|_, _| hang());
        let healthy = Server::script(&[204]);
        let dead_t = http_target("dead", &dead.url("/h"), 300, 1);
        let ok_t = http_target("ok", &healthy.url("/h"), 2000, 0);
        let p = payload();
        let jobs = interleaved(&[&dead_t, &ok_t], &p, 40);
        let outs = deliver_all(&jobs, 8, &|_, _| {});

        // Three deliveries of two attempts each, then nothing more.
        assert_eq!(dead.requests().len(), 3 * 2);
        assert_eq!(healthy.requests().len(), 40);
        let (to_dead, to_ok): (Vec<_>, Vec<_>) =
            outs.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        assert!(to_ok.iter().all(|(_, o)| o.ok), "{to_ok:?}");
        let timed_out: Vec<_> = to_dead
            .iter()
            .filter(|(_, o)| o.detail == "timed out after 300ms (2 attempts)")
            .collect();
        assert_eq!(timed_out.len(), 3, "{to_dead:?}");
        let skipped: Vec<_> = to_dead
            .iter()
            .filter(|(_, o)| o.detail == GAVE_UP)
            .collect();
        assert_eq!(skipped.len(), 37, "{to_dead:?}");
        assert!(skipped.iter().all(|(_, o)| !o.ok && o.attempts == 0));
    }

    #[test]
    fn deliver_all_a_dead_target_never_holds_every_worker() {
        // Two workers, the dead target's jobs first: one worker is left for the healthy
        // target, which is done long before the dead one's first timeout.
        let dead = Server::start(|_, _| hang());
        let healthy = Server::script(&[204]);
        let dead_t = http_target("dead", &dead.url("/h"), 1500, 0);
        let ok_t = http_target("ok", &healthy.url("/h"), 2000, 0);
        let p = payload();
        let mut jobs = interleaved(&[&dead_t], &p, 10);
        jobs.extend(interleaved(&[&ok_t], &p, 10));
        let first_dead_failure: Mutex<Option<Instant>> = Mutex::new(None);
        let ok_done: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
        let outs = deliver_all(&jobs, 2, &|i, o| {
            if i < 10 && o.attempts > 0 {
                first_dead_failure
                    .lock()
                    .unwrap()
                    .get_or_insert(Instant::now());
            } else if i >= 10 {
                ok_done.lock().unwrap().push(Instant::now());
            }
        });
        assert!(outs[10..].iter().all(|o| o.ok), "{outs:?}");
        let first = first_dead_failure.into_inner().unwrap().unwrap();
        let ok_done = ok_done.into_inner().unwrap();
        assert_eq!(ok_done.len(), 10);
        assert!(
            ok_done.iter().all(|t| *t < first),
            "healthy deliveries waited for the dead target"
        );
        // With one worker for it, the dead target was tried one at a time, three times.
        assert_eq!(dead.requests().len(), 3);
        assert_eq!(outs[..10].iter().filter(|o| o.detail == GAVE_UP).count(), 7);
    }

    #[test]
    fn deliver_all_a_target_that_answers_no_is_not_given_up() {
        // 4xx and a command's non-zero exit are answers about one payload, not a dead
        // target: every delivery is still made.
        let server = Server::script(&[400]);
        let http = http_target("dead", &server.url("/h"), 2000, 0);
        let cmd = command_target(&["/bin/sh", "-c", "exit 1"], 5000);
        let p = payload();
        let outs = deliver_all(&interleaved(&[&http, &cmd], &p, 8), 4, &|_, _| {});
        assert_eq!(server.requests().len(), 8);
        assert!(outs.iter().all(|o| !o.ok && o.attempts == 1), "{outs:?}");
    }

    #[test]
    fn deliver_all_a_success_resets_the_count() {
        // Fails, fails, succeeds, fails, fails, succeeds…: never three in a row. One worker,
        // so the order is the job order.
        let server = Server::start(|n, _| status(if n % 3 == 2 { 204 } else { 503 }));
        let t = http_target("dead", &server.url("/h"), 2000, 0);
        let p = payload();
        let outs = deliver_all(&interleaved(&[&t], &p, 9), 1, &|_, _| {});
        assert_eq!(server.requests().len(), 9);
        assert_eq!(outs.iter().filter(|o| o.ok).count(), 3, "{outs:?}");
    }

    #[test]
    fn deliver_all_a_run_budget_carries_over() {
        // A command that cannot start is down; given up on in the first call, it is not
        // tried again in the second one of the same run.
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-hook");
        let mut t = command_target(&[missing.to_str().unwrap()], 5000);
        t.name = "dead".into();
        let p = payload();
        let budget = RunBudget::default();
        let outs = deliver_all_within(&interleaved(&[&t], &p, 5), 1, &budget, &|_, _| {});
        assert_eq!(
            outs.iter().filter(|o| o.detail == GAVE_UP).count(),
            2,
            "{outs:?}"
        );
        let outs = deliver_all_within(&interleaved(&[&t], &p, 2), 1, &budget, &|_, _| {});
        assert!(outs.iter().all(|o| o.detail == GAVE_UP), "{outs:?}");
        // A fresh run tries again.
        let outs = deliver_all(&interleaved(&[&t], &p, 1), 1, &|_, _| {});
        assert_eq!(outs[0].attempts, 1, "{outs:?}");
        assert!(outs[0].detail.starts_with("cannot run"), "{outs:?}");
    }

    #[test]
    fn deliver_all_mixed_targets_and_edge_cases() {
        assert!(deliver_all(&keyless(&[]), 4, &|_, _| panic!("no jobs")).is_empty());

        let server = Server::script(&[200]);
        let http = http_target("h", &server.url("/h"), 2000, 0);
        let ok = command_target(&["/bin/cat"], 5000);
        let bad = command_target(&["/bin/sh", "-c", "exit 4"], 5000);
        let p = payload();
        let jobs = [(&http, &p), (&ok, &p), (&bad, &p)];
        // Zero means one at a time, not a hang.
        let calls = AtomicUsize::new(0);
        let outs = deliver_all(&keyless(&jobs), 0, &|_, _| {
            calls.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(outs[0].detail, "HTTP 200 after 1 attempt");
        assert_eq!(outs[1].detail, "exited with status 0");
        assert_eq!(outs[2].detail, "exited with status 4");

        // Command-only runs never build an HTTP client, and still deliver.
        let flag = AtomicBool::new(false);
        let outs = deliver_all(&keyless(&[(&ok, &p)]), 8, &|_, o| {
            flag.store(o.ok, Ordering::SeqCst)
        });
        assert!(outs[0].ok && flag.load(Ordering::SeqCst));
    }

    #[test]
    fn outcome_serializes_plainly() {
        let o = Outcome {
            ok: true,
            attempts: 1,
            detail: "HTTP 204 after 1 attempt".into(),
            elapsed_ms: 12,
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"ok":true,"attempts":1,"detail":"HTTP 204 after 1 attempt","elapsed_ms":12}"#
        );
    }
}
