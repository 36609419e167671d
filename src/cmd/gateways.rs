use std::io::{self, Write};

use comfy_table::Cell;
use serde::Serialize;

use super::{finish, stdout};
use crate::backend::openclaw::{GatewayLock, Lease};
use crate::cli::Format;
use crate::config::Config;
use crate::probe::{http_health, Health, ProcInfo, ProcKind};
use crate::report::{escape_control, new_table, stamped, write_doc};
use crate::scan;
use crate::timefmt::iso_ms;

#[derive(Serialize)]
struct StateDir<'a> {
    state_dir: &'a std::path::Path,
    locks: &'a [GatewayLock],
    leases: &'a [Lease],
    health: Vec<Health>,
}

#[derive(Serialize)]
struct Doc<'a> {
    host: &'a crate::probe::Host,
    openclaw: Vec<StateDir<'a>>,
    /// Each linked-row backend's workers, under its `workers_key`.
    #[serde(flatten)]
    workers: serde_json::Map<String, serde_json::Value>,
    /// The same as text, in order.
    #[serde(skip)]
    workers_text: Vec<String>,
    problems: &'a [crate::model::Problem],
}

/// `sessionctl gateways`: processes, lock files, leases, pid files and health endpoints.
pub fn run(cfg: &Config) -> io::Result<u8> {
    let r = scan::run(cfg);
    crate::report::print_missing(cfg, &r);
    let mut oc = Vec::new();
    for s in &r.openclaw {
        let mut ports: Vec<u16> = s.locks.iter().filter_map(|l| l.port).collect();
        ports.extend(
            r.host
                .processes
                .iter()
                .filter(|p| p.kind == ProcKind::Gateway && p.serves(&s.state_dir) == Some(true))
                .filter_map(|p| p.port),
        );
        ports.sort_unstable();
        ports.dedup();
        oc.push(StateDir {
            state_dir: &s.state_dir,
            locks: &s.locks,
            leases: &s.leases,
            health: ports
                .into_iter()
                .map(|p| http_health(p, "/healthz"))
                .collect(),
        });
    }
    let mut workers = serde_json::Map::new();
    for key in crate::backend::all().filter_map(|d| d.workers_key) {
        workers.insert(key.into(), serde_json::Value::Array(Vec::new()));
    }
    let mut workers_text = Vec::new();
    for s in &r.linked {
        let (Some(key), Some((doc, text))) = (s.backend().describe().workers_key, s.workers())
        else {
            continue;
        };
        if let Some(serde_json::Value::Array(a)) = workers.get_mut(key) {
            a.push(doc);
        }
        workers_text.push(text);
    }
    let doc = Doc {
        host: &r.host,
        openclaw: oc,
        workers,
        workers_text,
        problems: &r.problems,
    };
    let mut out = stdout();
    match cfg.format {
        Format::Json | Format::Ndjson => write_doc(&mut out, cfg.format, &stamped(r.now_ms, &doc))?,
        Format::Table => write_human(&mut out, cfg, &doc)?,
    }
    finish(out, &r.problems, false)
}

/// A path as a terminal may show it.
fn path(p: &std::path::Path) -> String {
    escape_control(&p.display().to_string()).into_owned()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

fn write_human<W: Write>(w: &mut W, cfg: &Config, d: &Doc) -> io::Result<()> {
    let h = d.host;
    writeln!(
        w,
        "boot {} since {}{}",
        escape_control(h.boot_id.as_deref().unwrap_or("?")),
        opt(h.btime_ms.map(iso_ms)),
        if h.proc_available {
            ""
        } else {
            " (no /proc: liveness from kill(0), locks and health only)"
        }
    )?;
    let mut t = new_table(cfg);
    t.set_header(["KIND", "PID", "STARTED", "DIR", "ARGV"]);
    for p in &h.processes {
        t.add_row(proc_row(p));
    }
    writeln!(w, "\nProcesses")?;
    if h.processes.is_empty() {
        let kinds: Vec<&str> = crate::backend::all()
            .filter(|d| d.proc_kind.is_some())
            .map(|d| d.process)
            .collect();
        writeln!(w, "  no {} process found", kinds.join(" or "))?;
    } else {
        crate::report::write_rendered(&mut *w, &t)?;
    }
    for s in &d.openclaw {
        writeln!(w, "\nOpenClaw state dir {}", path(s.state_dir))?;
        if s.locks.is_empty() && s.leases.is_empty() {
            writeln!(w, "  no gateway lock or lease")?;
        }
        let mut t = new_table(cfg);
        t.set_header(["FILE", "PID", "STATE", "CREATED", "PORT"]);
        for l in s.locks {
            t.add_row(vec![
                Cell::new(path(&l.path)),
                Cell::new(opt(l.pid)),
                Cell::new(
                    l.state
                        .map(|s| format!("{s:?}").to_lowercase())
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::new(opt(l.created_at.map(iso_ms))),
                Cell::new(opt(l.port)),
            ]);
        }
        for l in s.leases {
            t.add_row(vec![
                Cell::new(format!("{} (gateway-owner lease)", path(&l.path))),
                Cell::new(l.pid),
                Cell::new(format!("{:?}", l.state).to_lowercase()),
                Cell::new("-"),
                Cell::new("-"),
            ]);
        }
        if !s.locks.is_empty() || !s.leases.is_empty() {
            crate::report::write_rendered(&mut *w, &t)?;
        }
        for hh in &s.health {
            writeln!(
                w,
                "  {} {}",
                escape_control(&hh.url),
                if hh.answered {
                    "answers"
                } else {
                    "does not answer"
                }
            )?;
        }
    }
    for text in &d.workers_text {
        w.write_all(text.as_bytes())?;
    }
    Ok(())
}

fn proc_row(p: &ProcInfo) -> Vec<Cell> {
    vec![
        Cell::new(match p.kind {
            ProcKind::Gateway => "gateway",
            ProcKind::Worker => "worker",
            ProcKind::Openclaw => "openclaw",
        }),
        Cell::new(p.pid),
        Cell::new(opt(p.started_at.map(iso_ms))),
        Cell::new(p.dir.as_deref().map(path).unwrap_or_else(|| "?".into())),
        // Any user can give a process an argv (and a dir) that holds escape sequences.
        Cell::new(escape_control(&p.argv)),
    ]
}
