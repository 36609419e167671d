//! The config file: hook targets, and the settings other commands read from it
//! (`idle`, `[openclaw]`, `[journal]`, and each backend's own section, which the backend
//! reads). Parsing and every check of it live here.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{display_url, io_message, Header, Target, TargetKind};

pub const DEFAULT_CONCURRENCY: usize = 8;
pub const MAX_CONCURRENCY: usize = 64;
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// A hook that needs longer than this is misconfigured; it also keeps deadline
/// arithmetic far from overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
pub const DEFAULT_RETRIES: u32 = 2;
pub const MAX_RETRIES: u32 = 10;
/// Headers sessionctl sets itself, or that would corrupt the request.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "host",
];

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
    /// The backends' own sections (see [`crate::backend::CONFIG_SECTIONS`]), as written.
    pub sections: Vec<crate::backend::ConfigSection>,
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
            sections: Vec::new(),
            journal: crate::journal::Retention::default(),
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
    for section in &raw.sections {
        section.check()?;
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
        sections: raw.sections,
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

#[derive(Default)]
struct RawConfig {
    concurrency: Option<i64>,
    idle: Option<String>,
    targets: Vec<RawTarget>,
    openclaw: Option<RawOpenclaw>,
    /// The backends' own sections, each read by its backend.
    sections: Vec<crate::backend::ConfigSection>,
    journal: Option<RawJournal>,
}

/// The config file's keys: its own, then the backends' sections (read by them), then
/// `journal` and `backend` (`[[backend.sql]]` entries: read and checked by
/// `backend::sql::config`).
fn config_keys() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut k = vec!["concurrency", "idle", "targets", "openclaw"];
        k.extend(crate::backend::CONFIG_SECTIONS);
        k.extend(["journal", "backend"]);
        k
    })
}

/// A key of the config file, refused (as an unknown field) unless it is one of
/// [`config_keys`].
struct Key(&'static str);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Key, E> {
                config_keys()
                    .iter()
                    .find(|x| **x == k)
                    .map(|x| Key(x))
                    .ok_or_else(|| E::unknown_field(k, config_keys()))
            }
        }
        d.deserialize_identifier(V)
    }
}

// By hand rather than derived: the backends' sections are not known here.
impl<'de> Deserialize<'de> for RawConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawConfig, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct RawConfig")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawConfig, A::Error> {
                let mut raw = RawConfig::default();
                while let Some(Key(k)) = map.next_key()? {
                    match k {
                        "concurrency" => raw.concurrency = map.next_value()?,
                        "idle" => raw.idle = map.next_value()?,
                        "targets" => raw.targets = map.next_value()?,
                        "openclaw" => raw.openclaw = map.next_value()?,
                        "journal" => raw.journal = map.next_value()?,
                        "backend" => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                        section => raw
                            .sections
                            .push(map.next_value_seed(crate::backend::SectionSeed(section))?),
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_struct("RawConfig", config_keys(), V)
    }
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

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
