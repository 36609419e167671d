//! The completions and man pages under completions/ and man/ are generated from the clap
//! definition. This test regenerates them and fails when the checked-in copies are stale.
//! Regenerate with: `SESSIONCTL_BLESS=1 cargo test --test generated`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn generated(args: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("sessionctl")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sessionctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.is_empty(),
        "sessionctl {args:?} printed nothing"
    );
    out.stdout
}

fn check(rel: &str, args: &[&str]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    let fresh = generated(args);
    if std::env::var_os("SESSIONCTL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let on_disk = std::fs::read(&path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "{rel} is out of date with the CLI definition; run `SESSIONCTL_BLESS=1 cargo test --test generated` and commit the result"
    );
}

#[test]
fn completions_are_current() {
    check("completions/sessionctl.bash", &["completions", "bash"]);
    check("completions/_sessionctl", &["completions", "zsh"]);
    check("completions/sessionctl.fish", &["completions", "fish"]);
    check("completions/sessionctl.elv", &["completions", "elvish"]);
    check(
        "completions/_sessionctl.ps1",
        &["completions", "powershell"],
    );
}

fn man_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// The `*.1` files in `dir`, by name.
fn pages_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".1"))
                .map(|n| {
                    let text = std::fs::read(dir.join(&n)).unwrap();
                    (n, text)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The pages `sessionctl man --dir` writes.
fn fresh_pages() -> BTreeMap<String, Vec<u8>> {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("sessionctl")
        .unwrap()
        .args(["man", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sessionctl man --dir failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = pages_in(tmp.path());
    assert!(fresh.len() > 1, "only {:?} written", fresh.keys());
    fresh
}

/// `sessionctl man --dir` writes every page; man/ holds exactly those, byte for byte.
#[test]
fn man_pages_are_current() {
    let fresh = fresh_pages();
    if std::env::var_os("SESSIONCTL_BLESS").is_some() {
        std::fs::create_dir_all(man_dir()).unwrap();
        for stale in pages_in(&man_dir())
            .keys()
            .filter(|n| !fresh.contains_key(*n))
        {
            std::fs::remove_file(man_dir().join(stale)).unwrap();
        }
        for (name, text) in &fresh {
            std::fs::write(man_dir().join(name), text).unwrap();
        }
        return;
    }
    let on_disk = pages_in(&man_dir());
    assert_eq!(
        on_disk.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>(),
        "man/ does not hold the pages `sessionctl man --dir` writes; run `SESSIONCTL_BLESS=1 cargo test --test generated` and commit the result"
    );
    for (name, text) in &fresh {
        assert!(
            on_disk[name] == *text,
            "man/{name} is out of date with the CLI definition; run `SESSIONCTL_BLESS=1 cargo test --test generated` and commit the result"
        );
    }
    // `sessionctl man` prints the main page.
    assert!(generated(&["man"]) == fresh["sessionctl.1"]);
}

/// The page names in `text`: `sessionctl\-list(1)`, `.BR sessionctl\-list (1)` and
/// `man:sessionctl(1)`.
fn page_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("sessionctl") {
        let rest = &text[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '\\'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(end);
        if after.starts_with("(1)") || after.starts_with(" (1)") {
            out.insert(name.replace('\\', ""));
        }
    }
    out
}

/// Every page a page names exists (sessionctl.1's SUBCOMMANDS and SEE ALSO), and so does
/// the one the systemd units name in `Documentation=`.
#[test]
fn every_page_named_exists() {
    // The generated pages: man_pages_are_current checks that man/ holds the same.
    let pages = fresh_pages();
    let mut named = BTreeSet::new();
    for text in pages.values() {
        named.extend(page_refs(&String::from_utf8_lossy(text)));
    }
    let units = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contrib/systemd");
    for e in std::fs::read_dir(&units).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for line in text.lines().filter(|l| l.starts_with("Documentation=")) {
            let refs = page_refs(line);
            assert!(!refs.is_empty() || !line.contains("man:"), "{line}");
            named.extend(refs);
        }
    }
    for want in [
        "sessionctl",
        "sessionctl-list",
        "sessionctl-close",
        "sessionctl-journal-undo",
    ] {
        assert!(named.contains(want), "no page names {want}: {named:?}");
    }
    for name in &named {
        assert!(
            pages.contains_key(&format!("{name}.1")),
            "{name}(1) is named but `sessionctl man --dir` writes no {name}.1"
        );
    }
}

/// The section of a roff page from `.SH <title>` to the next `.SH`.
fn section<'a>(page: &'a str, title: &str) -> &'a str {
    let start = page
        .find(&format!("\n.SH {title}\n"))
        .or_else(|| page.find(&format!("\n.SH \"{title}\"\n")))
        .unwrap_or_else(|| panic!("no {title} section"));
    let body = &page[start + 1..];
    let end = body[4..].find("\n.SH ").map_or(body.len(), |e| e + 4);
    &body[..end]
}

/// The main page has the sections a mature tool's page has, and ENVIRONMENT names every
/// variable sessionctl reads (src/config.rs's list and the clap `env = "…"` attributes).
#[test]
fn main_page_documents_environment_files_and_exit_status() {
    let page = String::from_utf8(fresh_pages().remove("sessionctl.1").unwrap()).unwrap();
    for title in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        section(&page, title);
    }
    let env_section = section(&page, "ENVIRONMENT");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let config = std::fs::read_to_string(src.join("config.rs")).unwrap();
    let keys_start = config
        .find("const ENV_KEYS")
        .expect("ENV_KEYS in src/config.rs");
    let keys = &config[keys_start..keys_start + config[keys_start..].find("];").unwrap()];
    let cli = std::fs::read_to_string(src.join("cli.rs")).unwrap();
    let mut vars: BTreeSet<String> = keys
        .split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect();
    vars.extend(
        cli.split("env = \"")
            .skip(1)
            .map(|r| r[..r.find('"').unwrap()].to_string()),
    );
    assert!(
        vars.len() > 10 && vars.contains("SESSIONCTL_YES"),
        "{vars:?}"
    );
    for v in &vars {
        assert!(
            env_section.contains(v.as_str()),
            "ENVIRONMENT does not mention {v}"
        );
    }
    let files = section(&page, "FILES");
    for f in [
        "config.toml",
        "journal.ndjson",
        "backups/",
        "close.lock",
        "gateway.*.lock",
        "jsonl.lock",
        "worker.pid",
    ] {
        assert!(files.contains(f), "FILES does not mention {f}");
    }
    let exit = section(&page, "EXIT STATUS");
    for code in [".B 0", ".B 1", ".B 2"] {
        assert!(exit.contains(code), "EXIT STATUS lacks {code}");
    }
}

/// The README says how to install the pages.
#[test]
fn readme_says_how_to_install_the_man_pages() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    assert!(
        readme.contains("install -Dm644 man/*.1 -t ~/.local/share/man/man1/"),
        "README lacks the install line"
    );
    assert!(
        readme.contains("sessionctl man --dir"),
        "README lacks man --dir"
    );
}

#[test]
fn bash_completion_names_every_subcommand() {
    let bash = String::from_utf8(generated(&["completions", "bash"])).unwrap();
    for w in [
        "list",
        "show",
        "gateways",
        "check",
        "--openclaw-state-dir",
        "--claude-mem-dir",
        "--format",
    ] {
        assert!(bash.contains(w), "bash completion lacks {w}");
    }
}
