//! The places a confined server must not reach: peta's own (configuration, audit log and
//! its companions, grants, pins, backups, vault and identity, every directory `peta approve`
//! may look in for session sockets) and the user's secret stores. peta's own can never be
//! exposed or made writable; the user's can be re-exposed with `read`.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// Files beside the audit database that hold or guard its rows.
const AUDIT_COMPANIONS: &[&str] = &["-wal", "-shm", "-journal", ".anchors"];

/// The user's secret stores, relative to the home directory: keys, cloud and registry
/// credentials, password stores and keyrings, browser profiles (cookies and saved
/// passwords), MCP client configurations (which may still hold tokens in plain text), and
/// shell histories (tokens typed on a command line).
pub(crate) const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".config/git/credentials",
    ".config/gh",
    ".config/hub",
    ".npmrc",
    ".yarnrc",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".gem/credentials",
    ".m2/settings.xml",
    ".gradle/gradle.properties",
    ".terraform.d/credentials.tfrc.json",
    ".vault-token",
    ".pgpass",
    ".my.cnf",
    ".password-store",
    ".local/share/keyrings",
    ".local/share/kwalletd",
    ".config/op",
    ".1password",
    ".pki",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".claude.json",
    ".claude/.credentials.json",
    ".config/Claude",
    ".cursor/mcp.json",
    ".codeium/windsurf/mcp_config.json",
    ".config/Code/User/mcp.json",
    ".config/Code/User/settings.json",
    ".bash_history",
    ".zsh_history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
];

/// System-wide sockets that give a same-user process more than the user's own powers
/// (the Docker daemon runs as root; the system bus reaches systemd and polkit).
pub(crate) const SYSTEM_SECRETS: &[&str] = &[
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/podman/podman.sock",
    "/run/dbus/system_bus_socket",
];

/// Names inside a writable path whose contents become code that runs unconfined later (git
/// hooks and config, editor and MCP client settings, direnv): kept read-only where they
/// exist.
#[cfg(target_os = "linux")]
pub(crate) const PROTECTED_IN_WRITABLE: &[&str] = &[
    ".git/hooks",
    ".git/config",
    ".mcp.json",
    ".vscode",
    ".cursor",
    ".claude",
    ".idea",
    ".envrc",
];

/// Where peta keeps what a server must not reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Places {
    /// peta's own: hidden always, never readable or writable by a server.
    pub(crate) own: Vec<PathBuf>,
    /// The user's secret stores: hidden unless a server's `read` names one.
    pub(crate) secrets: Vec<PathBuf>,
}

impl Places {
    /// The places of this user and configuration: `config_file` is the file in use, if any.
    pub(crate) fn of(config: &Config, config_file: Option<&Path>) -> Places {
        let mut own = Vec::new();
        if let Some(dir) = crate::config::config_dir() {
            own.push(dir.join("peta"));
        }
        if let Some(file) = config_file {
            own.push(file.to_owned());
        }
        if let Some(db) = crate::audit::db::default_path()
            && let Some(state) = db.parent()
        {
            own.push(state.to_owned());
        }
        let audit = &config.audit.path;
        own.push(audit.clone());
        for suffix in AUDIT_COMPANIONS {
            let mut name = audit.as_os_str().to_owned();
            name.push(suffix);
            own.push(PathBuf::from(name));
        }
        own.push(crate::secrets::vault::data_dir());
        own.push(config.vault.path.clone());
        if let Some(crate::secrets::vault::IdentitySource::File(identity)) = &config.vault.identity
        {
            own.push(identity.clone());
        }
        own.extend(runtime_dirs());
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute());
        let mut secrets: Vec<PathBuf> = home
            .iter()
            .flat_map(|home| HOME_SECRETS.iter().map(move |rel| home.join(rel)))
            .collect();
        secrets.extend(SYSTEM_SECRETS.iter().map(PathBuf::from));
        own.sort();
        own.dedup();
        Places { own, secrets }
    }
}

/// Every directory `peta approve` may look in for session sockets, and the user's runtime
/// directory with the session bus and agent sockets in it.
fn runtime_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
    {
        dirs.push(dir);
    }
    let uid = crate::approval::console::dir::euid();
    dirs.push(PathBuf::from(format!("/run/user/{uid}")));
    dirs.push(PathBuf::from(format!("/tmp/peta-{uid}")));
    dirs
}
