//! The run's configuration, resolved once from the command line and the environment and
//! passed down. Nothing deeper in the program reads the environment.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::cli::{BackendArg, ColorWhen, Format, GlobalArgs};
use crate::model::Backend;

/// The environment variables sessionctl (and the programs it mirrors) look at.
const ENV_KEYS: &[&str] = &[
    "HOME",
    "TMPDIR",
    "NO_COLOR",
    "OPENCLAW_STATE_DIR",
    "CLAWDBOT_STATE_DIR",
    "OPENCLAW_HOME",
    "OPENCLAW_CONFIG_PATH",
    "OPENCLAW_GATEWAY_PORT",
    "CLAUDE_MEM_DATA_DIR",
    "CLAUDE_MEM_WORKER_PORT",
    "CLAUDE_MEM_MAX_CONCURRENT_AGENTS",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
];

#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            vars: ENV_KEYS
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
                .collect(),
        }
    }

    /// A variable, treating an empty value as unset.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: Env,
    pub openclaw_state_dirs: Vec<PathBuf>,
    pub claude_mem_dir: Option<PathBuf>,
    pub backends: Vec<Backend>,
    pub format: Format,
    pub idle_ms: i64,
    /// `--owed`: judge finished sessions by the gateway lifetimes their turns ran in.
    pub owed: bool,
    /// `--trust-pid-namespace`: this pid namespace holds every owner there is.
    pub trust_pid_namespace: bool,
    pub color: bool,
    pub verbose: bool,
    pub quiet: bool,
    /// Config file and whether it was named explicitly.
    pub config_file: (PathBuf, bool),
    pub journal: PathBuf,
}

impl Config {
    pub fn resolve(g: &GlobalArgs, env: Env, stdout_is_tty: bool) -> Config {
        let backends = if g.backend.is_empty() {
            Backend::ALL.to_vec()
        } else {
            let mut b: Vec<Backend> = g
                .backend
                .iter()
                .map(|b| match b {
                    BackendArg::Openclaw => Backend::Openclaw,
                    BackendArg::ClaudeMem => Backend::ClaudeMem,
                    BackendArg::Sql => Backend::Sql,
                })
                .collect();
            b.sort();
            b.dedup();
            b
        };
        let color = match (g.no_color, g.color) {
            (true, _) | (_, ColorWhen::Never) => false,
            (_, ColorWhen::Always) => true,
            (_, ColorWhen::Auto) => env.get("NO_COLOR").is_none() && stdout_is_tty,
        };
        let home = env.home().unwrap_or_else(|| PathBuf::from("."));
        let xdg = |var: &str, fallback: &str| {
            env.get(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(fallback))
        };
        let config_file = match &g.config {
            Some(p) => (p.clone(), true),
            None => (
                xdg("XDG_CONFIG_HOME", ".config")
                    .join("sessionctl")
                    .join("config.toml"),
                false,
            ),
        };
        let journal = g.journal.clone().unwrap_or_else(|| {
            xdg("XDG_STATE_HOME", ".local/state")
                .join("sessionctl")
                .join("journal.ndjson")
        });
        Config {
            openclaw_state_dirs: g.openclaw_state_dirs.clone(),
            claude_mem_dir: g.claude_mem_dir.clone(),
            backends,
            format: g.format,
            idle_ms: crate::duration::as_ms(g.idle),
            owed: !g.no_owed,
            trust_pid_namespace: g.trust_pid_namespace,
            color,
            verbose: g.verbose,
            quiet: g.quiet,
            config_file,
            journal,
            env,
        }
    }

    pub fn wants(&self, b: Backend) -> bool {
        self.backends.contains(&b)
    }
}
