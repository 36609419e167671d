//! `sessionctl install systemd`: a drop-in for OpenClaw's own gateway unit that runs
//! `sessionctl close --yes --after-stop` after every stop of the gateway (clean, crash, OOM,
//! timeout). A drop-in, because OpenClaw's installer rewrites its unit file on update; the
//! unit file itself is never touched.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::{stdout, EXIT_ERROR, EXIT_OK};
use crate::cli::{Format, GlobalArgs, InstallSystemdArgs};
use crate::config::{Config, Env};
use crate::fsx::Dir;
use crate::report::escape_control;

/// The drop-in's file name in `<unit>.d/`.
pub const DROP_IN: &str = "sessionctl.conf";

/// The first line of every drop-in sessionctl writes: a file without it is someone
/// else's, and is neither replaced (without --force) nor removed.
pub const MARKER: &str = "# Written by `sessionctl install systemd`.";

/// Mode of the drop-in: systemd and the user read it; nothing in it is secret.
const MODE: u32 = 0o644;

/// A drop-in larger than this is certainly not ours; it is not read further.
const MAX_READ: u64 = 64 * 1024;

/// OpenClaw's gateway unit: `openclaw-gateway.service`, or
/// `openclaw-gateway-<profile>.service`.
pub fn unit_name(profile: Option<&str>) -> Result<String, String> {
    match profile {
        None => Ok("openclaw-gateway.service".into()),
        Some(p) => {
            let ok = !p.is_empty()
                && p.len() <= 64
                && !p.starts_with(['.', '-'])
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if ok {
                Ok(format!("openclaw-gateway-{p}.service"))
            } else {
                Err(format!(
                    "`{}` is not a profile name (letters, digits, `-`, `_` and `.`, at most 64, not starting with `.` or `-`)",
                    escape_control(p)
                ))
            }
        }
    }
}

/// `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user` (where `systemctl
/// --user edit` writes its drop-ins).
pub fn default_unit_dir(env: &Env) -> Option<PathBuf> {
    unit_dir_from(env.get("XDG_CONFIG_HOME"), env.home())
}

fn unit_dir_from(xdg_config_home: Option<&str>, home: Option<PathBuf>) -> Option<PathBuf> {
    let config = xdg_config_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))?;
    Some(config.join("systemd").join("user"))
}

/// A word for the shell, in the comment that says how to uninstall.
fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// One argument of an `Exec*=` line, as systemd will split it back: bare when it holds
/// only characters systemd gives no meaning to, else double-quoted with `\` and `"`
/// escaped. `%` (specifiers) and `$` (variables) are doubled either way. Control
/// characters cannot be written safely and are refused.
pub fn quote(arg: &str) -> Result<String, String> {
    if arg.is_empty() {
        return Ok("\"\"".into());
    }
    if arg.chars().any(|c| c.is_control()) {
        return Err(format!(
            "`{}` holds a control character, which a unit file cannot carry",
            escape_control(arg)
        ));
    }
    let bare = arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%$".contains(c));
    let mut out = String::with_capacity(arg.len() + 2);
    if !bare {
        out.push('"');
    }
    for c in arg.chars() {
        match c {
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    if !bare {
        out.push('"');
    }
    Ok(out)
}

/// The options `install` passes on to the repair: only those the user gave it, as
/// absolute paths (systemd runs the command from `/`).
pub fn passed_on(g: &GlobalArgs) -> io::Result<Vec<String>> {
    let abs = |p: &Path| -> io::Result<String> {
        Ok(std::path::absolute(p)?.to_string_lossy().into_owned())
    };
    let mut out = Vec::new();
    if let Some(p) = &g.config {
        out.extend(["--config".to_string(), abs(p)?]);
    }
    if let Some(p) = &g.journal {
        out.extend(["--journal".to_string(), abs(p)?]);
    }
    for b in crate::backend::all() {
        for p in (b.given_args)(g) {
            out.extend([b.flag.to_string(), abs(&p)?]);
        }
    }
    Ok(out)
}

/// The `ExecStopPost=` value: `-` (a failed repair never fails the unit), this binary,
/// `close --yes --after-stop`, then the options passed on.
pub fn exec_line(exe: &Path, extra: &[String]) -> Result<String, String> {
    let exe = exe
        .to_str()
        .ok_or_else(|| format!("{}: not valid UTF-8", exe.display()))?;
    let mut words = vec![quote(exe)?];
    for w in ["close", "--yes", "--after-stop"] {
        words.push(w.to_string());
    }
    for a in extra {
        words.push(quote(a)?);
    }
    Ok(format!("-{}", words.join(" ")))
}

/// The drop-in's text.
pub fn render(unit: &str, exec: &str, uninstall: &str) -> String {
    format!(
        "{MARKER}\n\
# A drop-in for {unit}; OpenClaw's installer rewrites the unit file\n\
# on update, never this file. To remove it:\n\
#   {uninstall}\n\
#   systemctl --user daemon-reload\n\
[Unit]\n\
# After every stop of the gateway (clean, crash, OOM, timeout), before Restart= starts\n\
# the next one, ExecStopPost= runs a one-shot repair in the gateway's environment. After\n\
# a clean stop it does nothing (the gateway's own drain sent every session_end); else it\n\
# closes the dead gateway's orphans as `sessionctl close --yes` does, except the running\n\
# sessions of SQLite stores, which the restarted gateway re-runs. The `-`: a failed\n\
# repair never marks the gateway's unit failed.\n\
\n\
[Service]\n\
ExecStopPost={exec}\n"
    )
}

/// Is this drop-in text one sessionctl wrote?
pub fn is_ours(text: &str) -> bool {
    text.lines().next() == Some(MARKER)
}

/// What is at the drop-in's path now.
enum Existing {
    None,
    Ours(String),
    Foreign(String),
}

fn existing(dir: &Dir) -> io::Result<Existing> {
    let name = OsStr::new(DROP_IN);
    let f = match dir.open_read(name) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::None),
        // O_NOFOLLOW on a symlink.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Existing::Foreign("it is a symbolic link".into()))
        }
        Err(e) => return Err(e),
    };
    if !f.metadata()?.is_file() {
        return Ok(Existing::Foreign("it is not a regular file".into()));
    }
    let mut buf = Vec::new();
    f.take(MAX_READ).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    Ok(if is_ours(&text) {
        Existing::Ours(text)
    } else {
        Existing::Foreign(format!("its first line is not `{MARKER}`"))
    })
}

/// Root writing into a user's unit dir (`sudo` keeping `HOME`) would leave a root-owned
/// file there: refuse, and say whose it is.
fn check_owner(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if me != 0 {
        return Ok(());
    }
    let mut p = Some(dir);
    while let Some(d) = p {
        if let Ok(m) = fs::metadata(d) {
            if m.uid() != 0 {
                return Err(format!(
                    "belongs to uid {}: run `sessionctl install systemd` as that user, or pass --unit-dir",
                    m.uid()
                ));
            }
            return Ok(());
        }
        p = d.parent();
    }
    Ok(())
}

pub fn systemd(cfg: &Config, g: &GlobalArgs, args: &InstallSystemdArgs) -> io::Result<u8> {
    if cfg.format != Format::Table {
        eprintln!("sessionctl: install systemd prints text only; drop --format");
        return Ok(EXIT_ERROR);
    }
    let unit = match unit_name(args.profile.as_deref()) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("sessionctl: install systemd: --profile: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let unit_dir = match args.unit_dir.clone().or_else(|| default_unit_dir(&cfg.env)) {
        Some(d) => std::path::absolute(&d)?,
        None => {
            eprintln!(
                "sessionctl: install systemd: neither XDG_CONFIG_HOME nor HOME is set; pass --unit-dir"
            );
            return Ok(EXIT_ERROR);
        }
    };
    let d_dir = unit_dir.join(format!("{unit}.d"));
    let path = d_dir.join(DROP_IN);
    if args.uninstall {
        return uninstall(cfg, args, &d_dir, &path);
    }

    let exe = std::env::current_exe()?;
    if !exe.is_file() {
        super::error_line(
            "install systemd",
            &exe,
            "this binary is no longer there (replaced while running?); run install again from the installed sessionctl",
        );
        return Ok(EXIT_ERROR);
    }
    let extra = passed_on(g)?;
    let exec = match exec_line(&exe, &extra) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sessionctl: install systemd: {}", escape_control(&e));
            return Ok(EXIT_ERROR);
        }
    };
    let mut uninstall_cmd = String::from("sessionctl install systemd --uninstall");
    if let Some(p) = &args.profile {
        uninstall_cmd.push_str(&format!(" --profile {p}"));
    }
    if args.unit_dir.is_some() {
        let d = unit_dir.to_string_lossy();
        if d.chars().any(|c| c.is_control()) {
            eprintln!(
                "sessionctl: install systemd: --unit-dir: the path holds a control character"
            );
            return Ok(EXIT_ERROR);
        }
        uninstall_cmd.push_str(&format!(" --unit-dir {}", shell_word(&d)));
    }
    let text = render(&unit, &exec, &uninstall_cmd);

    let mut out = stdout();
    if args.dry_run {
        writeln!(
            out,
            "would write {}:",
            escape_control(&path.display().to_string())
        )?;
        write!(out, "{text}")?;
        writeln!(out, "Dry run: nothing was written.")?;
        out.flush()?;
        return Ok(EXIT_OK);
    }
    if let Err(e) = check_owner(&unit_dir) {
        super::error_line("install systemd", &unit_dir, e);
        return Ok(EXIT_ERROR);
    }
    use std::os::unix::fs::DirBuilderExt;
    if let Err(e) = fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&d_dir)
    {
        super::error_line("install systemd", &d_dir, format!("cannot create: {e}"));
        return Ok(EXIT_ERROR);
    }
    let dir = Dir::open(&d_dir)?;
    let verb = match existing(&dir)? {
        Existing::Ours(old) if old == text => "unchanged",
        Existing::Ours(_) => "updated",
        Existing::None => "wrote",
        Existing::Foreign(why) if args.force => {
            if !cfg.quiet {
                super::error_line(
                    "install systemd",
                    &path,
                    format!(
                        "replacing a drop-in sessionctl did not write ({why}), as --force asks"
                    ),
                );
            }
            "replaced"
        }
        Existing::Foreign(why) => {
            super::error_line(
                "install systemd",
                &path,
                format!("exists and was not written by sessionctl ({why}); left alone (--force replaces it)"),
            );
            return Ok(EXIT_ERROR);
        }
    };
    if verb != "unchanged" {
        if let Err(e) = dir.replace(OsStr::new(DROP_IN), text.as_bytes(), MODE, None, || Ok(())) {
            super::error_line("install systemd", &path, format!("cannot write: {e}"));
            return Ok(EXIT_ERROR);
        }
    }
    writeln!(
        out,
        "{verb} {}",
        escape_control(&path.display().to_string())
    )?;
    writeln!(
        out,
        "  after every stop of {unit}: {}",
        escape_control(exec.trim_start_matches('-'))
    )?;
    if !cfg.quiet && !unit_dir.join(&unit).exists() {
        writeln!(
            out,
            "  note: no {unit} in {}; the drop-in applies wherever systemd finds the unit (`systemctl --user cat {unit}` shows it)",
            escape_control(&unit_dir.display().to_string())
        )?;
    }
    if !cfg.quiet && args.profile.is_some() && g.openclaw_state_dirs.is_empty() {
        writeln!(
            out,
            "  note: the repair reads the state dir the unit's environment names (OPENCLAW_STATE_DIR), else ~/.openclaw; if the profile's state dir is another, install again with --openclaw-state-dir DIR"
        )?;
    }
    out.flush()?;
    let code = if verb == "unchanged" {
        EXIT_OK
    } else {
        reload(cfg, args, &mut out)?
    };
    writeln!(out, "check: systemctl --user cat {unit}")?;
    out.flush()?;
    Ok(code)
}

fn uninstall(cfg: &Config, args: &InstallSystemdArgs, d_dir: &Path, path: &Path) -> io::Result<u8> {
    let mut out = stdout();
    let dir = match Dir::open(d_dir) {
        Ok(d) => Some(d),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            super::error_line("install systemd", d_dir, format!("cannot open: {e}"));
            return Ok(EXIT_ERROR);
        }
    };
    let found = match &dir {
        Some(d) => existing(d)?,
        None => Existing::None,
    };
    match found {
        Existing::None => {
            writeln!(
                out,
                "nothing to remove: no {}",
                escape_control(&path.display().to_string())
            )?;
            out.flush()?;
            Ok(EXIT_OK)
        }
        Existing::Foreign(why) => {
            super::error_line(
                "install systemd",
                path,
                format!("was not written by sessionctl ({why}); left alone"),
            );
            Ok(EXIT_ERROR)
        }
        Existing::Ours(_) if args.dry_run => {
            writeln!(
                out,
                "would remove {}",
                escape_control(&path.display().to_string())
            )?;
            writeln!(out, "Dry run: nothing was removed.")?;
            out.flush()?;
            Ok(EXIT_OK)
        }
        Existing::Ours(_) => {
            let dir = dir.expect("a drop-in was read from it");
            if let Err(e) = dir.unlink(OsStr::new(DROP_IN)).and_then(|_| dir.sync()) {
                super::error_line("install systemd", path, format!("cannot remove: {e}"));
                return Ok(EXIT_ERROR);
            }
            writeln!(
                out,
                "removed {}",
                escape_control(&path.display().to_string())
            )?;
            // Only when empty: other drop-ins (the user's own) stay.
            drop(dir);
            if fs::remove_dir(d_dir).is_ok() {
                writeln!(
                    out,
                    "removed {}",
                    escape_control(&d_dir.display().to_string())
                )?;
            }
            out.flush()?;
            reload(cfg, args, &mut out)
        }
    }
}

/// `systemctl --user daemon-reload` with --reload (when systemctl is installed), else the
/// line that tells the user to run it.
fn reload(cfg: &Config, args: &InstallSystemdArgs, out: &mut super::Out) -> io::Result<u8> {
    const CMD: &str = "systemctl --user daemon-reload";
    if !args.reload {
        writeln!(out, "now run: {CMD}")?;
        return Ok(EXIT_OK);
    }
    let ran = std::process::Command::new("systemctl")
        .args(["--user", "daemon-reload"])
        .stdin(std::process::Stdio::null())
        .output();
    match ran {
        Ok(o) if o.status.success() => {
            writeln!(out, "ran: {CMD}")?;
            Ok(EXIT_OK)
        }
        Ok(o) => {
            let why = String::from_utf8_lossy(&o.stderr);
            eprintln!(
                "sessionctl: install systemd: `{CMD}` failed ({}): {}; run it yourself",
                o.status,
                escape_control(why.trim())
            );
            Ok(EXIT_ERROR)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !cfg.quiet {
                eprintln!(
                    "sessionctl: install systemd: systemctl is not installed; did not reload"
                );
            }
            writeln!(out, "now run: {CMD}")?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!(
                "sessionctl: install systemd: cannot run systemctl: {e}; run `{CMD}` yourself"
            );
            Ok(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_with_and_without_profile() {
        assert_eq!(unit_name(None).unwrap(), "openclaw-gateway.service");
        assert_eq!(
            unit_name(Some("work")).unwrap(),
            "openclaw-gateway-work.service"
        );
        for bad in ["", "a b", "../x", "-x", ".x", "x/y", "x\n", "ä"] {
            assert!(unit_name(Some(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn quoting_follows_systemd_command_line_rules() {
        assert_eq!(quote("/usr/bin/sessionctl").unwrap(), "/usr/bin/sessionctl");
        assert_eq!(quote("/a b/c").unwrap(), "\"/a b/c\"");
        assert_eq!(quote("/a%h/c").unwrap(), "/a%%h/c");
        assert_eq!(quote("/a$HOME").unwrap(), "/a$$HOME");
        assert_eq!(quote("/a \"q\" \\").unwrap(), "\"/a \\\"q\\\" \\\\\"");
        assert_eq!(quote("x;y").unwrap(), "\"x;y\"");
        assert_eq!(quote("'x'").unwrap(), "\"'x'\"");
        assert_eq!(quote("").unwrap(), "\"\"");
        assert!(quote("a\nb").is_err());
    }

    #[test]
    fn exec_line_passes_on_only_what_was_given() {
        let l = exec_line(Path::new("/opt/s c/sessionctl"), &[]).unwrap();
        assert_eq!(l, "-\"/opt/s c/sessionctl\" close --yes --after-stop");
        let l = exec_line(
            Path::new("/bin/sessionctl"),
            &["--journal".into(), "/j/journal.ndjson".into()],
        )
        .unwrap();
        assert_eq!(
            l,
            "-/bin/sessionctl close --yes --after-stop --journal /j/journal.ndjson"
        );
    }

    #[test]
    fn rendered_drop_in_is_marked_and_has_one_exec_stop_post() {
        let t = render(
            "openclaw-gateway.service",
            "-/bin/sessionctl close --yes --after-stop",
            "sessionctl install systemd --uninstall",
        );
        assert!(is_ours(&t));
        assert!(!is_ours(&format!("# mine\n{t}")));
        let lines: Vec<&str> = t.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "[Unit]",
                "",
                "[Service]",
                "ExecStopPost=-/bin/sessionctl close --yes --after-stop"
            ]
        );
        assert!(t.contains("sessionctl install systemd --uninstall"));
    }

    #[test]
    fn default_unit_dir_follows_xdg() {
        let home = || Some(PathBuf::from("/home/u"));
        assert_eq!(
            unit_dir_from(None, home()).unwrap(),
            Path::new("/home/u/.config/systemd/user")
        );
        assert_eq!(
            unit_dir_from(Some("/x"), home()).unwrap(),
            Path::new("/x/systemd/user")
        );
        // A relative XDG_CONFIG_HOME is invalid by the spec: ignored.
        assert_eq!(
            unit_dir_from(Some("rel"), home()).unwrap(),
            Path::new("/home/u/.config/systemd/user")
        );
        assert_eq!(unit_dir_from(None, None), None);
        assert_eq!(shell_word("/a b/it's"), "'/a b/it'\\''s'");
    }
}
