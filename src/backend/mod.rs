//! Backends: one module per system that keeps "active session" records.
//!
//! Every backend reads by name (`sqlite_master`, `PRAGMA table_info`), never by one
//! version's column list, and reports a schema it does not know instead of guessing.
//! Reading is read-only and safe while the real programs run.

//! OpenClaw is the upstream (sessions, gateways, their lifetimes); the others are
//! linked-row backends (see [`linked`]). The registry below is the one place that names
//! them all.

pub mod claude_mem;
mod lenient;
pub mod linked;
pub mod openclaw;
pub mod sql;
pub mod write;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::config::Config;
pub use crate::fsx::{normalize, same_dir};
use crate::probe::{DirOf, Host, ProcKind};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Which backend a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Openclaw,
    ClaudeMem,
    /// A `[[backend.sql]]` table declared in the config file.
    Sql,
}

impl Backend {
    /// Every backend, in display order.
    pub const ALL: [Backend; 3] = [Backend::Openclaw, Backend::ClaudeMem, Backend::Sql];

    pub fn name(self) -> &'static str {
        self.describe().name
    }

    /// What the shared code knows of this backend.
    pub fn describe(self) -> &'static Descriptor {
        match self {
            Backend::Openclaw => &OPENCLAW,
            Backend::ClaudeMem => &CLAUDE_MEM,
            Backend::Sql => &SQL,
        }
    }

    /// Found by looking where its program keeps its data (an absence is worth saying);
    /// `sql` tables are declared in the config file, never looked for.
    pub fn discovered(self) -> bool {
        self.describe().absent.is_some()
    }

    /// A linked-row backend (every backend but the upstream, OpenClaw).
    pub fn linked(self) -> bool {
        self.describe().read.is_some()
    }
}

/// How a backend stores its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreKind {
    /// OpenClaw <= 2026.7: `agents/<id>/sessions/sessions.json`.
    File,
    /// OpenClaw 2026.8+: `agents/<id>/agent/openclaw-agent.sqlite`.
    Sqlite,
    /// claude-mem's `claude-mem.db`.
    ClaudeMemDb,
    /// A database a `[[backend.sql]]` entry names.
    Sql,
}

/// Backend-specific details of a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Detail {
    Openclaw(crate::model::OpenclawDetail),
    ClaudeMem(claude_mem::ClaudeMemDetail),
    Sql(sql::SqlDetail),
}

impl Detail {
    /// The dir a record belongs to: its OpenClaw state dir or claude-mem data dir (None: an
    /// sql row, whose database is its store).
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Detail::Openclaw(d) => Some(&d.state_dir),
            Detail::ClaudeMem(d) => Some(&d.data_dir),
            Detail::Sql(_) => None,
        }
    }

    /// The epoch ms a linked row's key says its session began (None: not a linked row,
    /// or its key does not say).
    pub fn linked_at(&self) -> Option<i64> {
        match self {
            Detail::Openclaw(_) => None,
            Detail::ClaudeMem(d) => d.linked_at,
            Detail::Sql(d) => d.linked_at,
        }
    }
}

/// What the man page says of a backend (roff), filled into its hand-written sections.
pub struct Man {
    /// Its name in running text (`OpenClaw`).
    pub name: &'static str,
    /// Its ENVIRONMENT entries.
    pub env: &'static str,
    /// Its FILES paragraph.
    pub files: &'static str,
    /// The SESSION IDS entries of its rows (before the OpenClaw ids) and of its content
    /// session ids (after them).
    pub row_ids: &'static str,
    pub content_ids: &'static str,
    /// The same in `close`'s one sentence: its row ids, then (at the end) its content ids.
    pub close_row_ids: &'static str,
    pub close_content_ids: &'static str,
}

/// What the shared code knows of a backend: how it is named to the user, where it lives
/// and how it is read. The registry: [`Backend::describe`].
pub struct Descriptor {
    pub backend: Backend,
    /// As the output, the journal and `--backend` spell it.
    pub name: &'static str,
    /// The flag that reads a dir of it (hints of notes and `doctor`).
    pub flag: &'static str,
    /// What its processes are called in notes (`gateway`, `claude-mem worker`).
    pub process: &'static str,
    /// Its processes in /proc, when it has any.
    pub proc_kind: Option<ProcKind>,
    /// The variables of its processes' environment that say which dir each one serves and
    /// where its health endpoint is (read by [`process_dirs`]).
    pub process_env: &'static [&'static str],
    /// What the man page says of it.
    pub man: Man,
    /// How `doctor` says it found none where it looked (None: never looked for).
    pub absent: Option<&'static str>,
    /// The variable that points discovery at it.
    pub dir_env: Option<&'static str>,
    /// The prefix of its records' labels (`cm:42`: a bare row id would not say which
    /// backend it is). None: the id is the label.
    pub label: Option<&'static str>,
    /// The key of its workers in `gateways --format json` (None: it has none to show).
    pub workers_key: Option<&'static str>,
    /// The journal kind of ending one of its rows (linked-row backends).
    pub end_kind: Option<&'static str>,
    /// Read its stores: every linked-row backend. OpenClaw, the upstream, is read by the
    /// scan itself (its sessions decide the linked rows' verdicts).
    pub read: Option<fn(&Config, &Host) -> linked::Read>,
    /// Directories `close` locks before it changes anything there.
    pub lock_dirs: fn(&Config) -> Vec<PathBuf>,
    /// SQLite databases whose hot journal `close` rolls back before reading.
    pub databases: fn(&Config) -> Vec<PathBuf>,
    /// The dirs the command line named (for the commands `doctor` suggests).
    pub given: fn(&Config) -> Vec<PathBuf>,
    /// The same, as `install` passes them on.
    pub given_args: fn(&GlobalArgs) -> Vec<PathBuf>,
}

static OPENCLAW: Descriptor = Descriptor {
    backend: Backend::Openclaw,
    name: "openclaw",
    flag: "--openclaw-state-dir",
    process: "gateway",
    proc_kind: Some(ProcKind::Gateway),
    process_env: &["OPENCLAW_STATE_DIR", "OPENCLAW_GATEWAY_PORT"],
    man: Man {
        name: "OpenClaw",
        env: openclaw::man::ENV,
        files: openclaw::man::FILES,
        row_ids: "",
        content_ids: "",
        close_row_ids: "",
        close_content_ids: "",
    },
    absent: Some("no OpenClaw state dir"),
    dir_env: Some("OPENCLAW_STATE_DIR"),
    label: None,
    workers_key: None,
    end_kind: None,
    read: None,
    lock_dirs: |cfg| {
        openclaw::discover(cfg)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    },
    databases: openclaw::databases,
    given: |cfg| cfg.openclaw_state_dirs.clone(),
    given_args: |g| g.openclaw_state_dirs.clone(),
};

static CLAUDE_MEM: Descriptor = Descriptor {
    backend: Backend::ClaudeMem,
    name: "claude-mem",
    flag: "--claude-mem-dir",
    process: "claude-mem worker",
    proc_kind: Some(ProcKind::Worker),
    process_env: &["CLAUDE_MEM_DATA_DIR", "CLAUDE_MEM_WORKER_PORT"],
    man: Man {
        name: "claude\\-mem",
        env: claude_mem::man::ENV,
        files: claude_mem::man::FILES,
        row_ids: claude_mem::man::ROW_IDS,
        content_ids: claude_mem::man::CONTENT_IDS,
        close_row_ids: claude_mem::man::CLOSE_ROW_IDS,
        close_content_ids: claude_mem::man::CLOSE_CONTENT_IDS,
    },
    absent: Some("no claude-mem database"),
    dir_env: Some("CLAUDE_MEM_DATA_DIR"),
    label: Some("cm"),
    workers_key: Some("claude_mem"),
    end_kind: Some("claude-mem-end"),
    read: Some(claude_mem::read),
    lock_dirs: |cfg| {
        claude_mem::discover(cfg)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    },
    databases: |cfg| {
        claude_mem::discover(cfg)
            .into_iter()
            .map(|(d, _)| d.join(claude_mem::DB_FILE))
            .collect()
    },
    given: |cfg| cfg.claude_mem_dir.iter().cloned().collect(),
    given_args: |g| g.claude_mem_dir.iter().cloned().collect(),
};

static SQL: Descriptor = Descriptor {
    backend: Backend::Sql,
    name: "sql",
    flag: "--config",
    process: "process",
    proc_kind: None,
    process_env: &[],
    man: Man {
        name: "sql",
        env: "",
        files: "",
        row_ids: "",
        content_ids: "",
        close_row_ids: "",
        close_content_ids: "",
    },
    absent: None,
    dir_env: None,
    label: None,
    workers_key: None,
    end_kind: Some("sql-end"),
    read: Some(sql::read),
    lock_dirs: |cfg| {
        sql::databases(cfg)
            .iter()
            .filter_map(|db| db.parent().map(Path::to_path_buf))
            .collect()
    },
    databases: sql::databases,
    given: |_| Vec::new(),
    given_args: |_| Vec::new(),
};

/// The backends' own sections of the config file, in the order the file's keys are
/// listed: each is read and checked by its backend.
pub const CONFIG_SECTIONS: &[&str] = &["claude_mem"];

/// A backend's own section of the config file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSection {
    ClaudeMem(claude_mem::Settings),
}

impl ConfigSection {
    /// Checks beyond the section's types (Err: one line).
    pub fn check(&self) -> Result<(), String> {
        match self {
            ConfigSection::ClaudeMem(s) => s.check(),
        }
    }
}

/// Reads the section named `name` (one of [`CONFIG_SECTIONS`]) straight from the config
/// file's deserializer, so that its errors point at the line they are about.
pub struct SectionSeed<'a>(pub &'a str);

impl<'de> serde::de::DeserializeSeed<'de> for SectionSeed<'_> {
    type Value = ConfigSection;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<ConfigSection, D::Error> {
        use serde::Deserialize;
        match self.0 {
            "claude_mem" => claude_mem::Settings::deserialize(d).map(ConfigSection::ClaudeMem),
            other => Err(serde::de::Error::custom(format!(
                "no backend reads `{other}`"
            ))),
        }
    }
}

/// Every backend's descriptor, in display order.
pub fn all() -> impl Iterator<Item = &'static Descriptor> {
    Backend::ALL.into_iter().map(Backend::describe)
}

/// The backend a name (as output and the journal spell it) stands for.
pub fn by_name(name: &str) -> Option<Backend> {
    Backend::ALL.into_iter().find(|b| b.name() == name)
}

/// Where a backend was looked for and not found, and where its processes run instead.
#[derive(Debug, Clone)]
pub struct Missing {
    pub backend: Backend,
    /// What was missing and where it was looked for, e.g. `no state dir at /home/u/.openclaw
    /// (OPENCLAW_STATE_DIR unset)`.
    pub what: String,
    /// Processes of the backend (gateways, workers) that run for another dir: pid and dir.
    pub elsewhere: Vec<(i64, PathBuf)>,
}

impl Missing {
    /// What was missing, with the processes of the backend that run for dirs other than
    /// `looked` (all of them when discovery looked nowhere).
    pub fn new(backend: Backend, what: String, host: &Host, looked: Option<&Path>) -> Missing {
        let mut elsewhere: Vec<(i64, PathBuf)> = match backend.describe().proc_kind {
            Some(kind) => host
                .processes
                .iter()
                .filter(|p| p.kind == kind && !p.foreign_mnt)
                .filter(|p| looked.is_none_or(|m| p.serves(m) != Some(true)))
                .filter_map(|p| Some((p.pid, p.dir.clone()?)))
                .collect(),
            None => Vec::new(),
        };
        elsewhere.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Missing {
            backend,
            what,
            elsewhere,
        }
    }

    /// The flag that reads a dir of this backend.
    pub fn flag(&self) -> &'static str {
        self.backend.describe().flag
    }

    /// The process kind that runs for a dir of this backend.
    pub fn process(&self) -> &'static str {
        self.backend.describe().process
    }
}

/// What each backend's processes say about where they work: the dir and port their
/// environment names, read as the program itself reads it.
pub fn process_dirs<'a>(
    kind: ProcKind,
    get: &dyn Fn(&str) -> Option<&'a str>,
) -> (Option<PathBuf>, Option<u16>) {
    match kind {
        ProcKind::Gateway | ProcKind::Openclaw => (
            openclaw::state_dir_from_env(get),
            get("OPENCLAW_GATEWAY_PORT").and_then(|p| p.parse().ok()),
        ),
        ProcKind::Worker => (
            claude_mem::data_dir_from_env(get),
            get("CLAUDE_MEM_WORKER_PORT").and_then(|p| p.parse().ok()),
        ),
    }
}

/// The store of a journaled row end (`claude-mem-end`, `sql-end`).
pub fn row_store(
    backend: Backend,
    locator: Option<&serde_json::Value>,
) -> Result<std::sync::Arc<dyn linked::RowStore>, String> {
    match backend {
        Backend::ClaudeMem => Ok(std::sync::Arc::new(claude_mem::store::Rows)),
        Backend::Sql => Ok(std::sync::Arc::new(sql::store::SqlRows::from_locator(
            locator,
        )?)),
        Backend::Openclaw => Err("an OpenClaw end is not a row end".into()),
    }
}

/// How `close` ends a linked row (None: the record is not a linked row).
pub fn row_end(s: &crate::model::Session) -> Option<linked::RowEnd> {
    let (store, row): (std::sync::Arc<dyn linked::RowStore>, serde_json::Value) = match &s.detail {
        Detail::ClaudeMem(d) => (
            std::sync::Arc::new(claude_mem::store::Rows),
            d.row_id.into(),
        ),
        Detail::Sql(d) => (d.rows.clone(), d.row_id.clone()),
        Detail::Openclaw(_) => return None,
    };
    Some(linked::RowEnd {
        store,
        db: s.store.clone(),
        row,
    })
}

/// Why a record is never closed, whatever its verdict (None: it may be).
pub fn never_closed(s: &crate::model::Session) -> Option<&'static str> {
    match &s.detail {
        Detail::ClaudeMem(d) => claude_mem::never_closed(d),
        _ => None,
    }
}

// Here rather than in `probe`, so that `probe` knows no backend (backends read the host,
// not the other way round).
impl Host {
    /// Probe the host; with `scan`, also find every backend's processes in /proc.
    pub fn probe(scan: bool) -> Host {
        Host::probe_with(scan.then_some(process_dirs as DirOf))
    }
}

/// How long a read waits for a writer's lock before giving up.
pub const READ_BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// A query that runs longer than this is interrupted (a hostile view can loop forever).
/// Per connection; a million-row store reads in well under a second.
pub const READ_DEADLINE: Duration = Duration::from_secs(5);

/// SQLite's own memory for one run: a hostile view building ever longer values gets an
/// out-of-memory error from SQLite instead of taking the machine's memory.
const SQLITE_HEAP_LIMIT: i64 = 256 << 20;

/// Lock files, pid files and settings are small; anything bigger is not what it claims.
pub const SMALL_FILE: u64 = 1 << 20;

/// Open a file sessionctl only reads. It must be a regular file: a FIFO would block the
/// run and a device would never end. Opened non-blocking, so even a FIFO swapped in at
/// the last moment cannot hang the open.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// Read a small regular file whole, refusing more than `max` bytes.
pub fn read_small(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    open_regular(path)?.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes; not a file of this kind"),
        ));
    }
    Ok(buf)
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// A read-only connection, possibly to a private copy (see [`open_read_only`]).
pub struct ReadConn {
    conn: Connection,
    // Dropped after `conn` (fields drop in order), removing the copy.
    _copy: Option<PrivateCopy>,
}

impl std::ops::Deref for ReadConn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// A private temp dir holding a copy of a database and its WAL; removed on drop.
struct PrivateCopy(PathBuf);

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The copy lives in a new directory with an unpredictable name, made by `mkdir` (which
/// never follows a link, and fails if anything is there) with mode 0700, so nobody else
/// can reach into it; its files are created exclusively, 0600, through the directory fd.
fn private_copy(db: &Path) -> std::io::Result<(PathBuf, PrivateCopy)> {
    use std::ffi::OsStr;
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("sessionctl-{}", crate::fsx::random_hex()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let guard = PrivateCopy(dir.clone());
    let d = crate::fsx::Dir::open(&dir)?;
    for (from, name) in [
        (db.to_path_buf(), "db.sqlite"),
        (sidecar(db, "-wal"), "db.sqlite-wal"),
    ] {
        let mut to = d.create_new(OsStr::new(name), crate::fsx::PRIVATE_FILE)?;
        std::io::copy(&mut open_regular(&from)?, &mut to)?;
    }
    Ok((dir.join("db.sqlite"), guard))
}

/// Open an SQLite database read-only. Read-only connections never checkpoint or delete
/// someone else's WAL, a short busy timeout keeps a busy writer from stalling us, and a
/// deadline stops a query that never ends. Nothing is ever created beside the database:
/// a WAL database nobody has open is read immutable, and one whose `-shm` is missing (which
/// SQLite would create) is read from a private copy.
pub fn open_read_only(path: &Path) -> Result<ReadConn, String> {
    let meta = std::fs::metadata(path).map_err(|e| openclaw::io_msg(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() == 0 {
        return Err("empty file (0 bytes), not a database".into());
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut copy = None;
    let conn = if wal_mode_without_wal(path) {
        // A WAL database that nobody has open (no -wal file): SQLite would create -wal and
        // -shm files beside it, owned by us. Open it immutable instead: all its content is
        // in the main file, and nothing is created next to someone else's database.
        Connection::open_with_flags(
            format!("file:{}?immutable=1", uri_escape(path)),
            flags | OpenFlags::SQLITE_OPEN_URI,
        )
    } else if sidecar(path, "-wal").exists() && !sidecar(path, "-shm").exists() {
        // A -wal without its -shm: nobody has the database open (the owner's process keeps
        // the -shm), and reading it here would create one. Read a private copy instead.
        let (p, guard) = private_copy(path).map_err(|e| format!("cannot copy for reading: {e}"))?;
        copy = Some(guard);
        Connection::open_with_flags(&p, flags)
    } else {
        Connection::open_with_flags(path, flags)
    }
    .map_err(|e| sqlite_message(&e))?;
    conn.busy_timeout(READ_BUSY_TIMEOUT)
        .map_err(|e| sqlite_message(&e))?;
    let start = std::time::Instant::now();
    conn.progress_handler(100_000, Some(move || start.elapsed() > READ_DEADLINE));
    // Process-wide in SQLite; setting it again is harmless.
    let _ = conn.query_row(
        &format!("PRAGMA hard_heap_limit = {SQLITE_HEAP_LIMIT}"),
        [],
        |_| Ok(()),
    );
    // Touch the schema now so "not a database" surfaces here, with a clear message.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match (e.sqlite_error_code(), hot_journal(path)) {
        // A writer died mid-transaction in rollback-journal mode: reading needs the
        // rollback, which is a write, and a reader does not make it.
        (Some(rusqlite::ErrorCode::ReadOnly), Some(j)) => format!(
            "an interrupted write left a hot journal ({}); the next writer rolls it back (`sessionctl close` does)",
            j.display()
        ),
        _ => sqlite_message(&e),
    })?;
    Ok(ReadConn { conn, _copy: copy })
}

/// The `-journal` of a rollback-journal database that a dead writer left behind.
pub fn hot_journal(db: &Path) -> Option<PathBuf> {
    let mut j = db.as_os_str().to_owned();
    j.push("-journal");
    let j = PathBuf::from(j);
    std::fs::metadata(&j)
        .ok()
        .filter(|m| m.len() > 0)
        .map(|_| j)
}

/// The header says WAL mode (file format bytes 18/19 = 2) and there is no `-wal` file.
fn wal_mode_without_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut hdr = [0u8; 20];
    let ok = open_regular(path)
        .and_then(|mut f| f.read_exact(&mut hdr))
        .is_ok();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    ok && hdr.starts_with(b"SQLite format 3\0")
        && hdr[18] == 2
        && hdr[19] == 2
        && !Path::new(&wal).exists()
}

/// Escape a path for an SQLite `file:` URI.
fn uri_escape(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One line that says what is wrong with a database, in words a user can act on.
pub fn sqlite_message(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    if let rusqlite::Error::SqliteFailure(f, msg) = e {
        let detail = msg.clone().unwrap_or_else(|| f.to_string());
        return match f.code {
            NotADatabase => "not an SQLite database".into(),
            DatabaseCorrupt => format!("database is corrupt or truncated ({detail})"),
            DatabaseBusy | DatabaseLocked => format!(
                "database is locked by another process (gave up after {} ms)",
                READ_BUSY_TIMEOUT.as_millis()
            ),
            CannotOpen => format!("cannot open database ({detail})"),
            OutOfMemory => {
                "query ran out of the memory allowed to it (a table or view that never ends?)"
                    .into()
            }
            OperationInterrupted => format!(
                "query interrupted after {} s (a table or view that never ends?)",
                READ_DEADLINE.as_secs()
            ),
            PermissionDenied | ReadOnly => format!("permission denied ({detail})"),
            _ => detail,
        };
    }
    e.to_string()
}

/// Table names in a database.
pub fn tables(conn: &Connection) -> Result<Vec<String>, String> {
    let mut st = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .map_err(|e| sqlite_message(&e))?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| sqlite_message(&e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlite_message(&e))
}

/// Column names of a table (empty when the table does not exist).
pub fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, String> {
    let mut st = conn
        .prepare(&format!(
            "PRAGMA table_info(\"{}\")",
            table.replace('"', "\"\"")
        ))
        .map_err(|e| sqlite_message(&e))?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(1))
        .map_err(|e| sqlite_message(&e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlite_message(&e))
}

/// Is `dir` a directory to read? Ok(false): it does not exist and nobody asked for it (the
/// program is simply not used here). Err: a one-line problem to report.
pub fn check_dir(dir: &Path, explicit: bool, what: &str) -> Result<bool, String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(true),
        Ok(_) => Err(format!("{what} is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(false),
        Err(e) => Err(format!("cannot read {what}: {}", openclaw::io_msg(&e))),
    }
}

/// An epoch-ms time, kept only within years 1970-2200: anything else is a damaged or
/// hostile value and is treated as unknown (and can never overflow age arithmetic).
pub fn sane_ms(v: Option<i64>) -> Option<i64> {
    v.filter(|t| (0..7_258_118_400_000).contains(t))
}

/// An integer from any SQLite value: integers, integral reals, numeric text.
pub fn lenient_i64(v: rusqlite::types::ValueRef<'_>) -> Option<i64> {
    use rusqlite::types::ValueRef::*;
    match v {
        Integer(i) => Some(i),
        Real(f) if f.is_finite() && f.abs() < 9.0e15 => Some(f as i64),
        Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

pub fn lenient_string(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef::*;
    match v {
        Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Does `p` stay inside `root`, lexically and after following any symlinks that exist?
/// Stored paths that leave their state dir (a moved state dir, a hostile entry) are never
/// followed.
pub fn inside(root: &Path, p: &Path) -> bool {
    let root_n = normalize(root);
    let p_n = if p.is_absolute() {
        normalize(p)
    } else {
        normalize(&root.join(p))
    };
    if !p_n.starts_with(&root_n) {
        return false;
    }
    // Follow symlinks on the deepest existing ancestor: it must still be inside.
    let root_c = std::fs::canonicalize(root).unwrap_or(root_n);
    let mut probe = p_n.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(probe) {
            return c.starts_with(&root_c);
        }
        match probe.parent() {
            Some(parent) => probe = parent,
            None => return false,
        }
    }
}

/// A store file and the sidecars SQLite keeps beside it must stay inside their state or
/// data dir once every link is followed: a store linked out of its dir belongs to another
/// dir, whose owners this scan does not see, so it is never read as this dir's (and so
/// never written). The error names the link and where it leads.
pub fn contained(root: &Path, store: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = sidecar(store, suffix);
        if std::fs::symlink_metadata(&p).is_err() || inside(root, &p) {
            continue;
        }
        let to = std::fs::canonicalize(&p)
            .map(|c| c.display().to_string())
            .unwrap_or_else(|_| "a path that does not resolve".into());
        let what = if suffix.is_empty() {
            "it".to_string()
        } else {
            format!("its sidecar {}", p.display())
        };
        return Err(format!(
            "{what} leads out of {} (to {to}); refused: not read, never written",
            root.display()
        ));
    }
    Ok(())
}

/// Expand a leading `~` the way claude-mem 13.x does.
pub fn expand_home(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix('~'), home) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with('/') => {
            h.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_rejects_escapes() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("state");
        std::fs::create_dir_all(root.join("agents/main/sessions")).unwrap();
        assert!(inside(&root, &root.join("agents/main/sessions/x.jsonl")));
        assert!(inside(&root, Path::new("agents/main/sessions/x.jsonl")));
        assert!(!inside(&root, &root.join("agents/../../etc/passwd")));
        assert!(!inside(&root, Path::new("/etc/passwd")));
        assert!(!inside(&root, Path::new("../outside.jsonl")));
        std::os::unix::fs::symlink("/etc", root.join("agents/main/sessions/link")).unwrap();
        assert!(!inside(
            &root,
            &root.join("agents/main/sessions/link/passwd")
        ));
    }

    #[test]
    fn home_expansion() {
        let h = Path::new("/home/u");
        assert_eq!(expand_home("~/cm", Some(h)), PathBuf::from("/home/u/cm"));
        assert_eq!(expand_home("~", Some(h)), PathBuf::from("/home/u"));
        assert_eq!(expand_home("/abs", Some(h)), PathBuf::from("/abs"));
        assert_eq!(expand_home("~other/x", Some(h)), PathBuf::from("~other/x"));
    }
}
