//! Rendering: tables for people, JSON and NDJSON for programs. Only the requested output
//! goes to stdout; problems go to stderr, one line each.

use std::borrow::Cow;
use std::io::{self, Write};

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};
use serde::Serialize;

use crate::config::Config;
use crate::model::{Problem, Session, VerdictKind};
use crate::scan::{Report, Summary};
use crate::timefmt::{human_age, iso_ms};

/// The version of the JSON output format, in every JSON document and NDJSON line of
/// every command (the schemas under `schema/` describe it): bumped when a field is
/// removed or renamed, not when one is added.
pub const JSON_VERSION: u32 = 1;

/// `"version"` and `"generated_at"`, first in every JSON document and NDJSON line.
#[derive(Serialize)]
pub struct Header {
    pub version: u32,
    /// When the document was made (ISO-8601 UTC with ms).
    pub generated_at: String,
}

pub fn header(now_ms: i64) -> Header {
    Header {
        version: JSON_VERSION,
        generated_at: iso_ms(now_ms),
    }
}

/// A document with the [`Header`] before its own fields.
#[derive(Serialize)]
pub struct Stamped<T: Serialize> {
    #[serde(flatten)]
    pub header: Header,
    #[serde(flatten)]
    pub body: T,
}

pub fn stamped<T: Serialize>(now_ms: i64, body: T) -> Stamped<T> {
    Stamped {
        header: header(now_ms),
        body,
    }
}

/// One document: pretty for `--format json`, one line for `--format ndjson`.
pub fn write_doc<W: Write, T: Serialize>(
    w: &mut W,
    format: crate::cli::Format,
    v: &T,
) -> io::Result<()> {
    if format == crate::cli::Format::Ndjson {
        serde_json::to_writer(&mut *w, v)?;
        writeln!(w)
    } else {
        write_json(w, v)
    }
}

/// The stable JSON document of `list`, `check` and `show`.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    #[serde(flatten)]
    pub header: Header,
    pub host: JsonHost<'a>,
    pub sessions: Vec<Labeled<'a>>,
    pub problems: &'a [Problem],
    pub summary: Summary,
}

/// A session as JSON: its own fields (`id` stays the sessionId or the linked row's id,
/// as scripts read it) plus `label`, the one name a person sees in every table, in the
/// journal and in `close` output, and can pass to `show` and `close`.
#[derive(Serialize)]
pub struct Labeled<'a> {
    #[serde(flatten)]
    pub session: &'a Session,
    pub label: String,
}

impl<'a> Labeled<'a> {
    pub fn new(session: &'a Session) -> Labeled<'a> {
        Labeled {
            session,
            label: label(session.backend, &session.id),
        }
    }
}

/// The name a person sees for a record: its id, after its backend's label prefix when it
/// has one (`cm:42`: a bare row id would not say which backend it is). An OpenClaw
/// sessionId and an sql row's `<entry>:<row id>` say so themselves.
pub fn label(backend: crate::model::Backend, id: &str) -> String {
    match backend.describe().label {
        Some(prefix) => format!("{prefix}:{id}"),
        None => id.to_string(),
    }
}

/// A label as a table column shows it: a sessionId's first 8 characters.
fn short_label(s: &Session) -> String {
    match s.backend {
        crate::model::Backend::Openclaw => s.id.chars().take(8).collect(),
        b => label(b, &s.id),
    }
}

/// The label of a journaled session (`backend` as written there).
pub fn ref_label(r: &crate::journal::SessionRef) -> String {
    match crate::backend::by_name(&r.backend) {
        Some(b) => label(b, &r.id),
        None => r.id.clone(),
    }
}

/// A store kind as the JSON spells it (`file`, `sqlite`, `sql`).
pub fn store_kind_name(k: crate::model::StoreKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[derive(Serialize)]
pub struct JsonHost<'a> {
    pub boot_id: Option<&'a str>,
    pub boot_time: Option<String>,
    pub proc_available: bool,
}

pub fn json_report<'a>(r: &'a Report, sessions: Vec<&'a Session>) -> JsonReport<'a> {
    JsonReport {
        header: header(r.now_ms),
        host: JsonHost {
            boot_id: r.host.boot_id.as_deref(),
            boot_time: r.host.btime_ms.map(iso_ms),
            proc_available: r.host.proc_available,
        },
        summary: Summary::of(sessions.iter().copied()),
        sessions: sessions.into_iter().map(Labeled::new).collect(),
        problems: &r.problems,
    }
}

pub fn write_json<W: Write, T: Serialize>(w: &mut W, v: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, v)?;
    writeln!(w)
}

/// NDJSON: one `{"type":"session",…}` per line, then problems, then one summary line;
/// each line carries the [`Header`] too.
pub fn write_ndjson<W: Write>(w: &mut W, r: &Report, sessions: &[&Session]) -> io::Result<()> {
    #[derive(Serialize)]
    struct Line<'a, T: Serialize> {
        r#type: &'static str,
        #[serde(flatten)]
        header: &'a Header,
        #[serde(flatten)]
        body: &'a T,
    }
    let header = &header(r.now_ms);
    for s in sessions {
        serde_json::to_writer(
            &mut *w,
            &Line {
                r#type: "session",
                header,
                body: &Labeled::new(s),
            },
        )?;
        writeln!(w)?;
    }
    for p in &r.problems {
        serde_json::to_writer(
            &mut *w,
            &Line {
                r#type: "problem",
                header,
                body: p,
            },
        )?;
        writeln!(w)?;
    }
    let sum = Summary::of(sessions.iter().copied());
    serde_json::to_writer(
        &mut *w,
        &Line {
            r#type: "summary",
            header,
            body: &sum,
        },
    )?;
    writeln!(w)
}

pub fn verdict_cell(v: VerdictKind, color: bool) -> Cell {
    let c = Cell::new(v.name());
    if !color {
        return c;
    }
    match v {
        VerdictKind::Orphan => c.fg(Color::Red).add_attribute(Attribute::Bold),
        VerdictKind::Stale => c.fg(Color::Yellow),
        VerdictKind::Live => c.fg(Color::Green),
        VerdictKind::Unknown => c.fg(Color::DarkGrey),
        VerdictKind::Delivered => c.fg(Color::Cyan),
        VerdictKind::Owed => c.fg(Color::Magenta),
    }
}

pub fn new_table(cfg: &Config) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if cfg.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

/// Print a table without the padding comfy-table leaves at the end of each line (the last
/// column is padded to its width, and every cell by one space): a piped table is read by
/// `diff`, `grep` and editors that flag trailing whitespace.
pub fn write_rendered<W: Write>(w: &mut W, t: &Table) -> io::Result<()> {
    for line in t.lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The session table of `list`.
pub fn write_table<W: Write>(
    w: &mut W,
    cfg: &Config,
    r: &Report,
    sessions: &[&Session],
) -> io::Result<()> {
    if sessions.is_empty() {
        // With a backend that could not be read, "none found" would not be true: stderr
        // says what failed, and stdout stays empty.
        if r.problems.is_empty() {
            writeln!(w, "No active sessions found.")?;
        }
        return Ok(());
    }
    let mut t = new_table(cfg);
    t.set_header([
        "VERDICT", "REASON", "BACKEND", "SESSION", "ID", "IDLE", "DETAIL",
    ]);
    let mut prev_group = String::new();
    for s in sessions {
        let group = crate::scan::group_key(s);
        let linked = group == prev_group;
        prev_group = group;
        let backend = if linked {
            format!("└ {}", s.backend.name())
        } else {
            s.backend.name().to_string()
        };
        let name = s
            .session_key
            .clone()
            .filter(|k| k != "default")
            .or_else(|| s.content_session_id.clone())
            .unwrap_or_default();
        let idle = s
            .last_activity_at
            .map(|la| human_age(r.now_ms - la))
            .unwrap_or_else(|| "?".into());
        t.add_row(vec![
            verdict_cell(s.verdict, cfg.color),
            Cell::new(s.reason.name()),
            Cell::new(backend),
            Cell::new(escape_control(&name)),
            Cell::new(escape_control(&short_label(s))),
            Cell::new(idle),
            Cell::new(escape_control(&s.summary)),
        ]);
    }
    write_rendered(w, &t)?;
    if !cfg.quiet {
        let sum = Summary::of(sessions.iter().copied());
        writeln!(w)?;
        writeln!(w, "{}", summary_line(&sum))?;
    }
    Ok(())
}

pub fn summary_line(s: &Summary) -> String {
    let noun = if s.total == 1 { "session" } else { "sessions" };
    let mut delivered = String::new();
    if s.owed > 0 {
        delivered.push_str(&format!(", {} owed a session_end", s.owed));
    }
    if s.delivered > 0 {
        delivered.push_str(&format!(", {} delivered", s.delivered));
    }
    format!(
        "{} active {noun}: {} orphan, {} stale, {} live, {} unknown{delivered}",
        s.total, s.orphan, s.stale, s.live, s.unknown
    )
}

/// `p` as a shell word: as it is when it holds only safe characters, else single-quoted.
pub fn shell_quote(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Where each backend that found nothing looked, and the dirs its running gateways or
/// workers use instead, with the flag that reads them. Printed on stderr when the run found
/// no session at all (or with `-v`), never with `-q`: stdout stays what scripts read.
pub fn missing_lines(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for m in &r.missing {
        let b = m.backend.name();
        out.push(format!("{b}: {}", m.what));
        let mut dirs: Vec<(&std::path::Path, Vec<String>)> = Vec::new();
        for (pid, d) in &m.elsewhere {
            match dirs.iter_mut().find(|(x, _)| *x == d.as_path()) {
                Some((_, pids)) => pids.push(pid.to_string()),
                None => dirs.push((d, vec![pid.to_string()])),
            }
        }
        for (d, pids) in dirs {
            let (who, verb) = if pids.len() == 1 {
                (format!("a {} (pid {})", m.process(), pids[0]), "runs")
            } else {
                (
                    format!("{}s (pids {})", m.process(), pids.join(", ")),
                    "run",
                )
            };
            out.push(format!(
                "{b}: {who} {verb} for {}; read it with {} {}",
                d.display(),
                m.flag(),
                shell_quote(d)
            ));
        }
    }
    out
}

pub fn print_missing(cfg: &Config, r: &Report) {
    if cfg.quiet || !(r.sessions.is_empty() || cfg.verbose) {
        return;
    }
    let stderr = io::stderr();
    let mut e = stderr.lock();
    for l in missing_lines(r) {
        // Dirs come from other processes' environments.
        let _ = writeln!(e, "sessionctl: {}", escape_control(&l));
    }
}

/// Problems go to stderr, one line each, naming the file and what is wrong.
pub fn print_problems(problems: &[Problem]) {
    let stderr = io::stderr();
    let mut e = stderr.lock();
    for p in problems {
        let _ = writeln!(e, "sessionctl: {}", escape_control(&p.to_string()));
    }
}

/// Text read from stores, lock files, the journal or other processes, made safe for a
/// terminal: control characters (C0 including tab, CR and LF, DEL, C1) and the invisible
/// characters that reorder or break a line (the bidi marks U+200E, U+200F and U+061C, the
/// embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, the line and
/// paragraph separators U+2028 and U+2029) become visible escapes: `\t`, `\n`, `\r`,
/// `\x1b`, `\u{202e}`. Hostile text can then neither drive the terminal (retitle it,
/// clear it, rewrite a line with CR) nor show itself in another order than it has.
/// Everything else is shown as it is. JSON output never goes through this: serde escapes
/// what JSON must, and a program reads the raw value.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// A block describing one session in full, for `show`.
pub fn write_detail<W: Write>(w: &mut W, cfg: &Config, r: &Report, s: &Session) -> io::Result<()> {
    let mut t = new_table(cfg);
    let name = s
        .session_key
        .clone()
        .or_else(|| s.content_session_id.clone())
        .unwrap_or_default();
    // Every value may hold text from a store.
    let mut row = |k: &str, v: String| {
        t.add_row(vec![
            Cell::new(escape_control(k)).add_attribute(Attribute::Bold),
            Cell::new(escape_control(&v)),
        ]);
    };
    row("backend", s.backend.name().into());
    row("session", name);
    row("id", label(s.backend, &s.id));
    if let Some(c) = &s.content_session_id {
        row("content id", c.clone());
    }
    row("status", s.status.clone());
    row(
        "store",
        format!("{} ({})", s.store.display(), store_kind_name(s.store_kind)),
    );
    if let Some(st) = s.started_at {
        row(
            "started",
            format!("{} ({} ago)", iso_ms(st), human_age(r.now_ms - st)),
        );
    }
    if let Some(la) = s.last_activity_at {
        row(
            "last activity",
            format!("{} ({} ago)", iso_ms(la), human_age(r.now_ms - la)),
        );
    }
    row(
        "verdict",
        format!("{} ({})", s.verdict.name(), s.reason.name()),
    );
    row("why", s.summary.clone());
    for e in &s.evidence {
        let mut parts = vec![e.note.clone()];
        if let Some(p) = &e.path {
            parts.push(p.display().to_string());
        }
        if let Some(at) = e.at {
            parts.push(iso_ms(at));
        }
        row(&format!("evidence ({})", e.kind), parts.join("; "));
    }
    write_rendered(w, &t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_dangerous_character_becomes_a_visible_escape() {
        use super::escape_control as e;
        assert_eq!(e("agent:main:x"), "agent:main:x");
        assert!(matches!(
            e("plain ü 日本 \\ ok"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(e("\u{1b}]0;pwned\u{7}"), r"\x1b]0;pwned\x07");
        assert_eq!(e("\u{1b}[2J"), r"\x1b[2J");
        assert_eq!(e("a\rb\nc\td"), r"a\rb\nc\td");
        assert_eq!(e("\u{0}\u{7f}\u{85}\u{9b}"), r"\x00\x7f\x85\x9b");
        assert_eq!(
            e("\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}"),
            r"\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}"
        );
        assert_eq!(
            e("\u{2066}\u{2067}\u{2068}\u{2069}"),
            r"\u{2066}\u{2067}\u{2068}\u{2069}"
        );
        assert_eq!(
            e("\u{200e}\u{200f}\u{61c}\u{2028}\u{2029}"),
            r"\u{200e}\u{200f}\u{61c}\u{2028}\u{2029}"
        );
    }

    #[test]
    fn hostile_text_cannot_drive_the_terminal() {
        let s = super::escape_control("a\u{1b}[31mb\nc\u{202e}d\u{2028}e\u{2066}f");
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert!(!s.contains('\u{202e}') && !s.contains('\u{2028}') && !s.contains('\u{2066}'));
        assert!(s.starts_with('a') && s.ends_with('f'));
    }
}
