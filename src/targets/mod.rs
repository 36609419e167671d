//! Hook targets: where `close` delivers the `session_end` payload, read from the config
//! file, and the delivery itself — an HTTP POST, or a command with the payload on stdin.
//!
//! Secrets: an HTTP header's value comes from an environment variable the config names.
//! It is kept in `Header::value` (private) and goes on the wire, nowhere else: not into
//! `Debug`, `Display`, config errors or a delivery's `detail`.

mod command;
mod config;
mod http;
mod schedule;
#[cfg(test)]
mod test_support;

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde::Serialize;

pub use config::{load, Config};
pub use schedule::{deliver_all_within, RunBudget};

use command::{command_env, deliver_command};
use config::MAX_CONCURRENCY;
use http::{deliver_http, http_client};

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
    #[cfg(test)]
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

// One delivery at a time is for tests; `close` goes through `deliver_all_within`.
/// Deliver `payload` to one target. HTTP targets are retried as configured; commands
/// run once. Never panics on a failing target; the outcome says what happened.
#[cfg(test)]
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
#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

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
