//! The completions and man page under completions/ and man/ are generated from the clap
//! definition. This test regenerates them and fails when the checked-in copies are stale.
//! Regenerate with: `SESSIONCTL_BLESS=1 cargo test --test generated`.

use std::path::PathBuf;

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

#[test]
fn man_page_is_current() {
    check("man/sessionctl.1", &["man"]);
    let page = String::from_utf8(generated(&["man"])).unwrap();
    assert!(page.contains(".TH sessionctl 1"), "not a roff man page");
    for sub in ["list", "show", "gateways", "check", "completions"] {
        assert!(page.contains(sub), "man page lacks the {sub} subcommand");
    }
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
