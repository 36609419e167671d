//! The deployment files under contrib/: the systemd user units, the cron example and the
//! Prometheus alerting rules.
//!
//! Always checked (no tools needed): a small INI reader asserts what the units must say
//! (oneshot, the right subcommand, `SuccessExitStatus=1`, timers with a schedule, no
//! private /tmp, no namespace sandboxing a user manager may refuse); the units' and the
//! cron line's command lines are run against the built binary in a throw-away home; the
//! metrics `check --prometheus-textfile` writes are the ones the alert rules use.
//!
//! Checked when the tool is installed (else one `SKIPPED:` line on stderr, and a pass):
//! `systemd-analyze verify --user` on every unit, `promtool check rules`,
//! `promtool test rules` and `promtool check metrics`.
//!
//! Also the drop-in `sessionctl install systemd` writes for OpenClaw's own gateway unit:
//! what it sets (and does not), and `systemd-analyze verify` of a unit with OpenClaw's
//! policy together with the generated drop-in.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const UNITS: [&str; 5] = [
    "sessionctl-check.service",
    "sessionctl-check.timer",
    "sessionctl-close.service",
    "sessionctl-close.timer",
    "sessionctl-watch.service",
];

/// Where the units expect `cargo install` to have put the binary.
const UNIT_BINARY: &str = "%h/.cargo/bin/sessionctl";

/// The metric families `check --prometheus-textfile` promises.
const METRICS: [&str; 6] = [
    "sessionctl_sessions",
    "sessionctl_orphans",
    "sessionctl_active",
    "sessionctl_oldest_orphan_age_seconds",
    "sessionctl_last_success_timestamp_seconds",
    "sessionctl_errors",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn contrib(rel: &str) -> PathBuf {
    repo().join("contrib").join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sessionctl")
}

#[path = "support/tools.rs"]
mod tools;
use tools::*;

// ---------------------------------------------------------------------------------------
// A tiny reader for systemd's unit file syntax.

struct Unit {
    name: String,
    text: String,
    /// (section, key, value) in file order; repeated keys are kept.
    entries: Vec<(String, String, String)>,
}

impl Unit {
    fn load(name: &str) -> Unit {
        let text = read(&contrib("systemd").join(name));
        Unit {
            name: name.to_string(),
            entries: parse_unit(&text),
            text,
        }
    }

    /// Every value of a list-like key, honouring systemd's "an empty assignment resets
    /// the list".
    fn all(&self, section: &str, key: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for (s, k, v) in &self.entries {
            if s == section && k == key {
                if v.is_empty() {
                    out.clear();
                } else {
                    out.push(v.as_str());
                }
            }
        }
        out
    }

    /// The value in force of a single-valued key (the last assignment wins).
    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
    }

    fn must(&self, section: &str, key: &str) -> &str {
        self.get(section, key)
            .unwrap_or_else(|| panic!("{}: [{section}] has no {key}=", self.name))
    }

    fn is_true(&self, section: &str, key: &str) -> bool {
        self.get(section, key).is_some_and(|v| {
            parse_bool(v).unwrap_or_else(|| panic!("{}: {key}={v} is not a boolean", self.name))
        })
    }

    /// A sandboxing option counts as on unless it is absent or a false boolean.
    fn is_on(&self, section: &str, key: &str) -> bool {
        self.get(section, key)
            .is_some_and(|v| !v.is_empty() && parse_bool(v) != Some(false))
    }
}

fn parse_unit(text: &str) -> Vec<(String, String, String)> {
    let mut entries = Vec::new();
    let mut section = String::new();
    let mut pending = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with(';'))
        {
            continue;
        }
        // A trailing backslash continues the value on the next line.
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        let line = std::mem::take(&mut pending) + line;
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: neither a section nor Key=Value: {raw}", n + 1));
        assert!(
            !section.is_empty(),
            "line {}: {k}= outside a section",
            n + 1
        );
        entries.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
    }
    assert!(pending.is_empty(), "the file ends inside a continued line");
    entries
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// A systemd time span ("30s", "5min", "1h 30min", "90") in seconds.
fn parse_span(v: &str) -> f64 {
    let mut total = 0.0;
    for tok in v.split_whitespace() {
        let split = tok
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tok.len());
        let (num, unit) = tok.split_at(split);
        let n: f64 = num
            .parse()
            .unwrap_or_else(|_| panic!("bad time span {v:?}"));
        let scale = match unit {
            "" | "s" | "sec" | "second" | "seconds" => 1.0,
            "ms" | "msec" => 0.001,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            _ => panic!("unknown time unit in {v:?}"),
        };
        total += n * scale;
    }
    total
}

/// The argv of an Exec*= line: our units use no quoting, and only the %h specifier.
fn exec_argv(unit: &Unit, line: &str) -> Vec<String> {
    assert!(
        !line.contains(['"', '\'', '\\', '$', ';']),
        "{}: {line:?} uses quoting, variables or ';' — teach this test to split it",
        unit.name
    );
    let line = line.trim_start_matches(['-', '@', ':', '+', '!']);
    line.split_whitespace().map(str::to_string).collect()
}

fn specifiers(text: &str) -> BTreeSet<char> {
    let mut out = BTreeSet::new();
    let mut it = text.chars();
    while let Some(c) = it.next() {
        if c == '%' {
            if let Some(s) = it.next() {
                out.insert(s);
            }
        }
    }
    out
}

/// Options that need a mount or user namespace. In a user manager they imply
/// PrivateUsers=yes, which stops the unit from starting where unprivileged user
/// namespaces are off or restricted; several would also hide what sessionctl must see.
const NAMESPACE_OPTIONS: [&str; 16] = [
    "PrivateTmp",
    "PrivateUsers",
    "PrivateDevices",
    "PrivateMounts",
    "ProtectSystem",
    "ProtectHome",
    "ProtectProc",
    "ProcSubset",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "TemporaryFileSystem",
    "BindReadOnlyPaths",
];

/// A oneshot unit's essentials: [`assert_unit_basics`], `Type=oneshot`, and exit 1 (a
/// finding) as success.
fn assert_service_basics(u: &Unit, subcommand: &str) -> Vec<String> {
    assert_eq!(u.must("Service", "Type"), "oneshot", "{}: Type=", u.name);
    let argv = assert_unit_basics(u, subcommand);

    // exit 1 (orphans found / something skipped) is a finding, not a failed unit.
    let ok: Vec<&str> = u
        .all("Service", "SuccessExitStatus")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .collect();
    assert!(
        ok.contains(&"1"),
        "{}: SuccessExitStatus= must include 1",
        u.name
    );
    assert!(
        !ok.contains(&"2"),
        "{}: exit 2 is a real error and must fail the unit",
        u.name
    );
    argv
}

/// What every service must say: its description and documentation, one ExecStart= running
/// `sessionctl <subcommand>` from where `cargo install` puts it, no private /tmp, no
/// namespace sandboxing, a low priority, only `%h`.
fn assert_unit_basics(u: &Unit, subcommand: &str) -> Vec<String> {
    assert!(
        !u.must("Unit", "Description").is_empty(),
        "{}: empty Description=",
        u.name
    );
    assert_eq!(
        u.get("Unit", "Documentation"),
        Some("man:sessionctl(1)"),
        "{}: Documentation=",
        u.name
    );
    let starts = u.all("Service", "ExecStart");
    assert_eq!(
        starts.len(),
        1,
        "{}: exactly one ExecStart= expected",
        u.name
    );
    let argv = exec_argv(u, starts[0]);
    assert_eq!(
        argv[0], UNIT_BINARY,
        "{}: ExecStart= should run {UNIT_BINARY} (the test substitutes it)",
        u.name
    );
    assert_eq!(
        argv.get(1).map(String::as_str),
        Some(subcommand),
        "{}: ExecStart= must run `sessionctl {subcommand}`",
        u.name
    );

    // OpenClaw 2026.7 keeps gateway locks in $TMPDIR/openclaw-<uid>/: a private /tmp
    // would make every live gateway's sessions look orphaned.
    assert!(
        !u.is_on("Service", "PrivateTmp"),
        "{}: PrivateTmp= must not be enabled",
        u.name
    );
    assert!(
        u.text.contains("openclaw-<uid>"),
        "{}: the comment explaining PrivateTmp=no is gone",
        u.name
    );
    for opt in NAMESPACE_OPTIONS {
        assert!(
            !u.is_on("Service", opt),
            "{}: {opt}= needs a user namespace in a user manager; leave it out",
            u.name
        );
    }
    assert!(
        u.is_true("Service", "NoNewPrivileges"),
        "{}: NoNewPrivileges=yes",
        u.name
    );
    let nice: i32 = u.must("Service", "Nice").parse().unwrap();
    assert!(
        nice >= 10,
        "{}: Nice={nice}, expected a low priority",
        u.name
    );
    assert!(
        matches!(u.must("Service", "IOSchedulingClass"), "idle" | "3"),
        "{}: IOSchedulingClass=idle",
        u.name
    );
    assert!(
        u.get("Service", "User").is_none() && u.get("Service", "Group").is_none(),
        "{}: a user unit cannot switch users",
        u.name
    );
    let spec = specifiers(&u.text);
    assert!(
        spec.iter().all(|c| *c == 'h'),
        "{}: specifiers {spec:?} used; only %h is substituted by these tests",
        u.name
    );
    argv
}

#[test]
fn check_service_has_the_essentials() {
    let u = Unit::load("sessionctl-check.service");
    let argv = assert_service_basics(&u, "check");
    let at = argv
        .iter()
        .position(|a| a == "--prometheus-textfile")
        .expect("sessionctl-check.service: ExecStart= lacks --prometheus-textfile");
    let textfile = argv
        .get(at + 1)
        .expect("--prometheus-textfile without a path");
    assert!(
        textfile.starts_with("%h/") && textfile.ends_with(".prom"),
        "node_exporter only collects *.prom files: {textfile}"
    );
    // sessionctl replaces the file atomically but does not create its directory.
    let dir = Path::new(textfile).parent().unwrap().to_str().unwrap();
    let pre: Vec<Vec<String>> = u
        .all("Service", "ExecStartPre")
        .iter()
        .map(|l| exec_argv(&u, l))
        .collect();
    assert!(
        pre.iter().any(|a| a[0].ends_with("/mkdir")
            && a.iter().any(|x| x == "-p")
            && a.last().map(String::as_str) == Some(dir)),
        "sessionctl-check.service: no ExecStartPre= creates {dir}"
    );
    // check only reads; the stricter seccomp set is safe for it (no child processes).
    assert!(u.is_true("Service", "MemoryDenyWriteExecute"));
    assert!(
        u.get("Service", "SystemCallFilter").is_some(),
        "sessionctl-check.service: SystemCallFilter= expected"
    );
    let t = parse_span(u.must("Service", "TimeoutStartSec"));
    assert!(
        t > 0.0 && t <= 300.0,
        "a 5-minute check must not run longer than 5 minutes"
    );
}

#[test]
fn close_service_has_the_essentials() {
    let u = Unit::load("sessionctl-close.service");
    let argv = assert_service_basics(&u, "close");
    assert!(
        argv.iter().any(|a| a == "--yes"),
        "without --yes (and without a terminal) close refuses to act"
    );
    assert!(
        argv.windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json"),
        "the journal should get the machine-readable report"
    );
    assert!(!argv
        .iter()
        .any(|a| a == "--force" || a == "--include-stale"));
    // Command hook targets run as children of this unit and may be Node.js scripts,
    // which need writable+executable memory.
    assert!(
        !u.is_on("Service", "MemoryDenyWriteExecute"),
        "sessionctl-close.service: MemoryDenyWriteExecute= would break JIT-based hook commands"
    );
}

#[test]
fn watch_service_has_the_essentials() {
    let u = Unit::load("sessionctl-watch.service");
    let argv = assert_unit_basics(&u, "watch");
    // A daemon: started once and kept running, restarted after a crash, not after a stop.
    assert!(
        matches!(u.must("Service", "Type"), "exec" | "simple"),
        "sessionctl-watch.service: Type= must be exec or simple, not {}",
        u.must("Service", "Type")
    );
    assert_eq!(u.get("Service", "Restart"), Some("on-failure"));
    assert!(parse_span(u.must("Service", "RestartSec")) >= 1.0);
    assert!(
        !argv
            .iter()
            .any(|a| a == "--force" || a == "--include-stale" || a == "--dry-run"),
        "{argv:?}"
    );
    // Command hook targets run as its children, as for the close unit.
    assert!(!u.is_on("Service", "MemoryDenyWriteExecute"));
    assert_eq!(u.get("Install", "WantedBy"), Some("default.target"));
    let text = read(&contrib("systemd/sessionctl-watch.service"));
    assert!(
        text.contains("systemctl --user enable --now sessionctl-watch.service"),
        "sessionctl-watch.service: the comment no longer says how to enable it"
    );
}

/// The watch unit's command line starts, runs until SIGTERM, and exits 0 on it (what
/// `systemctl --user stop` sends), in a throw-away home.
#[test]
fn watch_unit_command_line_runs_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let u = Unit::load("sessionctl-watch.service");
    let home = fake_home();
    let h = home.path().to_str().unwrap();
    let argv: Vec<String> = exec_argv(&u, u.all("Service", "ExecStart")[0])
        .into_iter()
        .map(|a| a.replace("%h", h))
        .collect();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    isolated(&mut cmd, home.path());
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let started = first.contains("watch: started");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(started, "first line: {first}\n{}", rest.join("\n"));
    assert_eq!(status.code(), Some(0), "{first}\n{}", rest.join("\n"));
    assert!(
        rest.last().is_some_and(|l| l.contains("stopped (SIGTERM)")),
        "{}",
        rest.join("\n")
    );
}

fn assert_timer(name: &str) -> Unit {
    let u = Unit::load(name);
    let schedule: Vec<&str> = [
        "OnCalendar",
        "OnUnitActiveSec",
        "OnUnitInactiveSec",
        "OnBootSec",
    ]
    .iter()
    .flat_map(|k| u.all("Timer", k))
    .collect();
    assert!(
        !u.all("Timer", "OnCalendar").is_empty() || !u.all("Timer", "OnUnitActiveSec").is_empty(),
        "{name}: neither OnCalendar= nor OnUnitActiveSec= ({schedule:?})"
    );
    assert!(u.is_true("Timer", "Persistent"), "{name}: Persistent=true");
    let service = u
        .get("Timer", "Unit")
        .map(str::to_string)
        .unwrap_or_else(|| name.replace(".timer", ".service"));
    assert!(
        contrib("systemd").join(&service).is_file(),
        "{name} starts {service}, which contrib/systemd/ does not ship"
    );
    assert!(
        u.all("Install", "WantedBy")
            .iter()
            .any(|v| v.split_whitespace().any(|t| t == "timers.target")),
        "{name}: [Install] WantedBy=timers.target, or `systemctl --user enable` does nothing"
    );
    u
}

#[test]
fn check_timer_runs_every_five_minutes() {
    let u = assert_timer("sessionctl-check.timer");
    let every_5 = u.all("Timer", "OnCalendar").iter().any(|v| {
        matches!(
            *v,
            "*:0/5" | "*:00/5" | "*:0/5:00" | "*:00/5:00" | "*-*-* *:00/5:00"
        )
    }) || u
        .all("Timer", "OnUnitActiveSec")
        .iter()
        .any(|v| parse_span(v) == 300.0);
    assert!(every_5, "sessionctl-check.timer: not every 5 minutes");
    let delay = parse_span(u.must("Timer", "RandomizedDelaySec"));
    assert!(
        delay > 0.0 && delay <= 60.0,
        "RandomizedDelaySec={delay}s: small, well under the 5-minute period"
    );
}

#[test]
fn close_timer_is_hourly_and_documented_as_opt_in() {
    let u = assert_timer("sessionctl-close.timer");
    assert!(
        u.all("Timer", "OnCalendar")
            .iter()
            .any(|v| matches!(*v, "hourly" | "*:00" | "*:00:00" | "*-*-* *:00:00"))
            || u.all("Timer", "OnUnitActiveSec")
                .iter()
                .any(|v| parse_span(v) == 3600.0),
        "sessionctl-close.timer: not hourly"
    );
    for name in ["sessionctl-close.timer", "sessionctl-close.service"] {
        let text = read(&contrib("systemd").join(name));
        assert!(
            text.contains("systemctl --user enable --now sessionctl-close.timer"),
            "{name}: the comment on enabling the (off by default) close timer is gone"
        );
    }
}

/// A throw-away home with `~/.cargo/bin/sessionctl` pointing at the binary under test,
/// and an environment that cannot reach the real user's state.
fn fake_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let bin_dir = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(bin(), bin_dir.join("sessionctl")).unwrap();
    std::fs::create_dir_all(home.path().join("tmp")).unwrap();
    home
}

fn isolated(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TMPDIR", home.join("tmp"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("NO_COLOR", "1")
        .current_dir(home);
}

#[test]
fn unit_command_lines_run() {
    for (name, expect_file) in [
        (
            "sessionctl-check.service",
            Some(".local/state/sessionctl/sessionctl.prom"),
        ),
        ("sessionctl-close.service", None),
    ] {
        let u = Unit::load(name);
        let home = fake_home();
        let h = home.path().to_str().unwrap();
        let ok: BTreeSet<i32> = std::iter::once(0)
            .chain(
                u.all("Service", "SuccessExitStatus")
                    .iter()
                    .flat_map(|v| v.split_whitespace())
                    .filter_map(|c| c.parse().ok()),
            )
            .collect();
        let lines: Vec<&str> = u
            .all("Service", "ExecStartPre")
            .into_iter()
            .chain(u.all("Service", "ExecStart"))
            .collect();
        for line in lines {
            let argv: Vec<String> = exec_argv(&u, line)
                .into_iter()
                .map(|a| a.replace("%h", h))
                .collect();
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            isolated(&mut cmd, home.path());
            let ran = run(&mut cmd, 60);
            assert!(
                ran.code.is_some_and(|c| ok.contains(&c)),
                "{name}: {line} would fail the unit\n{}",
                ran.both()
            );
            if argv.get(1).map(String::as_str) == Some("close") {
                serde_json::from_str::<serde_json::Value>(&ran.stdout).unwrap_or_else(|e| {
                    panic!(
                        "{name}: close --format json printed no JSON document: {e}\n{}",
                        ran.both()
                    )
                });
            }
        }
        if let Some(rel) = expect_file {
            let text = read(&home.path().join(rel));
            assert!(
                text.contains("# TYPE sessionctl_orphans gauge"),
                "{name}: {rel} holds no sessionctl metrics:\n{text}"
            );
        }
    }
}

#[test]
fn units_pass_systemd_analyze_verify() {
    let Some(analyze) = which("systemd-analyze") else {
        skipped(
            "systemd-analyze verify of contrib/systemd",
            "systemd-analyze",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let units = tmp.path().join("units");
    let runtime = tmp.path().join("runtime");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();

    // verify checks that ExecStart='s binary exists: point it at the one under test.
    let mut paths = Vec::new();
    for name in UNITS {
        let text = read(&contrib("systemd").join(name));
        if name.ends_with(".service") {
            assert!(
                text.contains(UNIT_BINARY),
                "{name} no longer runs {UNIT_BINARY}"
            );
        }
        let p = units.join(name);
        std::fs::write(&p, text.replace(UNIT_BINARY, bin())).unwrap();
        paths.push(p);
    }

    // Documentation=man:sessionctl(1) is checked with man(1) against the shipped page.
    let man_dir = tmp.path().join("man");
    let with_man = which("man").is_some();
    if with_man {
        std::fs::create_dir_all(man_dir.join("man1")).unwrap();
        std::fs::copy(
            repo().join("man/sessionctl.1"),
            man_dir.join("man1/sessionctl.1"),
        )
        .unwrap();
    } else {
        skipped("Documentation=man:sessionctl(1) lookup", "man");
    }

    // No user manager needed: --user only wants a runtime directory to exist.
    let verify = |files: &[PathBuf]| {
        let mut cmd = Command::new(&analyze);
        cmd.arg("verify").arg("--user");
        if !with_man {
            cmd.arg("--man=no");
        }
        cmd.args(files)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("HOME", &home)
            .env("MANPATH", &man_dir)
            .env("SYSTEMD_LOG_COLOR", "0")
            .env_remove("SYSTEMD_UNIT_PATH")
            .current_dir(&units);
        run(&mut cmd, 60)
    };

    // systemd-analyze exits 0 on many problems it only warns about ("Unknown key",
    // "Failed to parse ..., ignoring"), so any line naming one of our units fails.
    let ours = |ran: &Ran| -> Vec<String> {
        ran.stdout
            .lines()
            .chain(ran.stderr.lines())
            .filter(|l| l.contains("sessionctl") || l.contains(units.to_str().unwrap()))
            .map(str::to_string)
            .collect()
    };

    // First prove that this systemd-analyze reports what we look for: a broken copy.
    let broken_dir = tmp.path().join("broken");
    std::fs::create_dir_all(&broken_dir).unwrap();
    let broken = broken_dir.join("sessionctl-broken.service");
    std::fs::write(
        &broken,
        read(&paths[0]).replace("Type=oneshot", "Type=oneshoot\nNoSuchKey=1"),
    )
    .unwrap();
    let ran = verify(&[broken]);
    let lines = ours(&ran);
    assert!(
        lines.iter().any(|l| l.contains("oneshoot"))
            && lines.iter().any(|l| l.contains("NoSuchKey")),
        "systemd-analyze verify did not report a deliberately broken unit; cannot trust it\n{}",
        ran.both()
    );

    let ran = verify(&paths);
    let lines = ours(&ran);
    assert!(
        ran.code == Some(0) && lines.is_empty(),
        "systemd-analyze verify --user found problems:\n{}\n\n{}",
        lines.join("\n"),
        ran.both()
    );
    for l in ran.stdout.lines().chain(ran.stderr.lines()) {
        loud(&format!("note: systemd-analyze: {l}"));
    }
}

// ---------------------------------------------------------------------------------------
// The drop-in for OpenClaw's gateway unit

/// OpenClaw's gateway unit as its installer writes it (2026.9.6; DESIGN §6), with a stand-in
/// ExecStart=: the policy the drop-in must work with.
const GATEWAY_UNIT: &str = "\
[Unit]
Description=OpenClaw Gateway
After=network-online.target
Wants=network-online.target
StartLimitBurst=10
StartLimitIntervalSec=300

[Service]
Type=simple
ExecStart=/bin/sh -c \"exec sleep infinity\"
Restart=always
RestartSec=5
TimeoutStopSec=330
KillMode=mixed
OOMPolicy=continue
SuccessExitStatus=0 143

[Install]
WantedBy=default.target
";

/// `sessionctl install systemd --unit-dir <units> <args>` in a throw-away home; the
/// drop-in's path.
fn install_drop_in(units: &Path, unit: &str, args: &[&str]) -> PathBuf {
    let home = fake_home();
    let mut cmd = Command::new(bin());
    isolated(&mut cmd, home.path());
    cmd.args(["install", "systemd", "--unit-dir"])
        .arg(units)
        .args(args);
    let ran = run(&mut cmd, 60);
    assert_eq!(ran.code, Some(0), "install systemd failed\n{}", ran.both());
    let path = units.join(format!("{unit}.d/sessionctl.conf"));
    assert!(path.is_file(), "no {}\n{}", path.display(), ran.both());
    path
}

#[test]
fn drop_in_adds_exec_stop_post_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    for (unit, args) in [
        ("openclaw-gateway.service", &[][..]),
        ("openclaw-gateway-work.service", &["--profile", "work"][..]),
    ] {
        let path = install_drop_in(tmp.path(), unit, args);
        let text = read(&path);
        let entries = parse_unit(&text);
        let exec = format!("-{} close --yes --after-stop", bin());
        assert_eq!(
            entries,
            [("Service".to_string(), "ExecStopPost".to_string(), exec)],
            "{unit}: the drop-in must not change the gateway's own policy\n{text}"
        );
    }
}

#[test]
fn gateway_unit_with_drop_in_passes_systemd_analyze_verify() {
    let Some(analyze) = which("systemd-analyze") else {
        skipped(
            "systemd-analyze verify of openclaw-gateway.service with the sessionctl drop-in",
            "systemd-analyze",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tmp.path().join("runtime");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let verify = |dir: &Path, unit: &str| {
        let mut cmd = Command::new(&analyze);
        cmd.args(["verify", "--user", "--man=no"])
            .arg(dir.join(unit))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("HOME", &home)
            .env("SYSTEMD_LOG_COLOR", "0")
            .env_remove("SYSTEMD_UNIT_PATH")
            .current_dir(dir);
        run(&mut cmd, 60)
    };
    // Warnings do not change the exit status: any line naming the unit dir fails.
    let about = |ran: &Ran, dir: &Path, unit: &str| -> Vec<String> {
        ran.stdout
            .lines()
            .chain(ran.stderr.lines())
            .filter(|l| l.contains(dir.to_str().unwrap()) || l.contains(unit))
            .map(str::to_string)
            .collect()
    };

    for (unit, args) in [
        ("openclaw-gateway.service", &[][..]),
        (
            "openclaw-gateway-work.service",
            &[
                "--profile",
                "work",
                "--journal",
                "/var/lib/sessionctl/journal.ndjson",
            ][..],
        ),
    ] {
        let units = tmp.path().join(unit).join("units");
        std::fs::create_dir_all(&units).unwrap();
        std::fs::write(units.join(unit), GATEWAY_UNIT).unwrap();
        let drop_in = install_drop_in(&units, unit, args);
        let text = read(&drop_in);

        // Prove that verify reads the drop-in beside the unit: a broken key in it shows.
        std::fs::write(&drop_in, format!("{text}NoSuchKey=1\n")).unwrap();
        let ran = verify(&units, unit);
        assert!(
            about(&ran, &units, unit)
                .iter()
                .any(|l| l.contains("NoSuchKey")),
            "systemd-analyze verify did not read the drop-in; cannot trust it\n{}",
            ran.both()
        );

        // With `-`, verify does not check the command: without it, the path must parse
        // to this (existing, executable) binary.
        std::fs::write(&drop_in, text.replace("ExecStopPost=-", "ExecStopPost=")).unwrap();
        let ran = verify(&units, unit);
        let lines = about(&ran, &units, unit);
        assert!(
            ran.code == Some(0) && lines.is_empty(),
            "{unit} with the drop-in's command checked:\n{}\n\n{}",
            lines.join("\n"),
            ran.both()
        );

        std::fs::write(&drop_in, &text).unwrap();
        let ran = verify(&units, unit);
        let lines = about(&ran, &units, unit);
        assert!(
            ran.code == Some(0) && lines.is_empty(),
            "systemd-analyze verify --user found problems in {unit} with the drop-in:\n{}\n\n{}",
            lines.join("\n"),
            ran.both()
        );
    }
}

#[test]
fn cron_example_is_well_formed_and_runs() {
    let text = read(&contrib("cron/sessionctl.cron"));
    let active: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        active.len(),
        1,
        "exactly one active line (the check) expected"
    );
    let fields: Vec<&str> = active[0].splitn(6, char::is_whitespace).collect();
    assert_eq!(fields.len(), 6, "five schedule fields and a command");
    for f in &fields[..5] {
        assert!(
            !f.is_empty() && f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)),
            "bad schedule field {f:?} in {:?}",
            active[0]
        );
    }
    assert_eq!(fields[..5].join(" "), "*/5 * * * *", "every 5 minutes");
    let command = fields[5];
    // In a crontab an unescaped % ends the command and feeds the rest to stdin.
    assert!(
        !command.contains('%'),
        "a bare % in a cron command is a newline: {command}"
    );
    assert!(command.contains("sessionctl\" check --prometheus-textfile"));
    assert!(
        text.lines()
            .any(|l| l.starts_with('#') && l.contains("close --yes --format json")),
        "the commented-out close line is gone"
    );

    // Run the line as cron would: /bin/sh, a minimal PATH, HOME set.
    let home = fake_home();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    isolated(&mut cmd, home.path());
    cmd.env("PATH", "/usr/bin:/bin");
    let ran = run(&mut cmd, 60);
    assert!(
        matches!(ran.code, Some(0 | 1)) && ran.stdout.is_empty() && ran.stderr.is_empty(),
        "the cron line failed or would send mail\n{}",
        ran.both()
    );
    let prom = read(&home.path().join(".local/state/sessionctl/sessionctl.prom"));
    assert!(prom.contains("sessionctl_last_success_timestamp_seconds "));
}

fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("sessionctl_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// The metrics an error-free `check` writes for an empty state dir.
fn fresh_metrics(dir: &Path) -> (PathBuf, String) {
    let state = dir.join("openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let prom = dir.join("textfile/sessionctl.prom");
    std::fs::create_dir_all(prom.parent().unwrap()).unwrap();
    let mut cmd = Command::new(bin());
    cmd.arg("--openclaw-state-dir")
        .arg(&state)
        .args(["--backend", "openclaw", "check", "--prometheus-textfile"])
        .arg(&prom);
    isolated(&mut cmd, dir);
    let ran = run(&mut cmd, 60);
    assert_eq!(
        ran.code,
        Some(0),
        "check on an empty state dir\n{}",
        ran.both()
    );
    (prom.clone(), read(&prom))
}

#[test]
fn alert_rules_use_the_metrics_check_writes() {
    let rules = read(&contrib("prometheus/sessionctl.rules.yml"));
    for (alert, expr) in [
        (
            "SessionctlOrphans",
            "sum by (instance) (sessionctl_orphans) > 0",
        ),
        (
            "SessionctlCheckStale",
            "time() - sessionctl_last_success_timestamp_seconds > 1800",
        ),
        ("SessionctlBackendErrors", "sessionctl_errors > 0"),
    ] {
        let at = rules
            .find(&format!("alert: {alert}\n"))
            .unwrap_or_else(|| panic!("no alert {alert}"));
        let block = &rules[at..];
        let block = &block[..block[1..].find("- alert:").map_or(block.len(), |e| e + 1)];
        assert!(
            block.contains(&format!("expr: {expr}\n")),
            "{alert}: expected `expr: {expr}`:\n{block}"
        );
    }
    let orphans = &rules[rules.find("alert: SessionctlOrphans").unwrap()..];
    assert!(orphans[..orphans.find("- alert:").unwrap()].contains("for: 15m"));

    let home = tempfile::tempdir().unwrap();
    let (_, metrics) = fresh_metrics(home.path());
    let written = metric_names(&metrics);
    for m in METRICS {
        assert!(
            metrics.contains(&format!("# TYPE {m} gauge")),
            "check --prometheus-textfile does not write {m}:\n{metrics}"
        );
    }
    let used = metric_names(&rules);
    let missing: Vec<_> = used.difference(&written).collect();
    assert!(
        missing.is_empty(),
        "the rules use metrics check does not write: {missing:?}\n{metrics}"
    );
}

#[test]
fn promtool_accepts_rules_tests_and_metrics() {
    let Some(promtool) = which("promtool") else {
        skipped("promtool check/test rules, check metrics", "promtool");
        return;
    };
    let dir = contrib("prometheus");
    let ran = run(
        Command::new(&promtool)
            .args(["check", "rules", "sessionctl.rules.yml"])
            .current_dir(&dir),
        60,
    );
    assert!(
        ran.code == Some(0) && ran.stdout.contains("SUCCESS: 3 rules found"),
        "promtool check rules\n{}",
        ran.both()
    );
    let ran = run(
        Command::new(&promtool)
            .args(["test", "rules", "sessionctl.rules.test.yml"])
            .current_dir(&dir),
        60,
    );
    assert!(
        ran.code == Some(0) && ran.stdout.contains("SUCCESS"),
        "promtool test rules\n{}",
        ran.both()
    );

    // The textfile itself must pass promtool's exposition-format lint.
    let home = tempfile::tempdir().unwrap();
    let (prom, _) = fresh_metrics(home.path());
    let ran = run_with(
        Command::new(&promtool).args(["check", "metrics"]),
        std::fs::File::open(&prom).unwrap().into(),
        60,
    );
    assert!(
        ran.code == Some(0) && ran.stdout.trim().is_empty() && ran.stderr.trim().is_empty(),
        "promtool check metrics on {}\n{}",
        prom.display(),
        ran.both()
    );
}
