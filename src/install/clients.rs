//! Where each MCP client keeps its servers: the file per OS and scope, the key inside it, the
//! file's syntax, and what the client gives the servers it starts.

use std::path::{Path, PathBuf};

pub(crate) use crate::cli::{Client, Scope};

impl Client {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::Vscode => "vscode",
            Client::Windsurf => "windsurf",
            Client::Codex => "codex",
            Client::Gemini => "gemini",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "Claude Desktop",
            Client::ClaudeCode => "Claude Code",
            Client::Cursor => "Cursor",
            Client::Vscode => "VS Code",
            Client::Windsurf => "Windsurf",
            Client::Codex => "Codex",
            Client::Gemini => "Gemini CLI",
        }
    }

    /// The syntax of the client's file.
    pub(crate) fn format(self) -> Format {
        match self {
            Client::Codex => Format::Toml,
            _ => Format::Json,
        }
    }

    /// Whether the client is usually started from a desktop (a launcher, the Dock, a file
    /// manager) rather than a shell: it then gives servers the session's short PATH, not the
    /// one of the person's shell, where nvm, pyenv, mise and Homebrew put `npx` and `uvx`.
    pub(crate) fn is_desktop_app(self) -> bool {
        match self {
            Client::ClaudeDesktop | Client::Cursor | Client::Vscode | Client::Windsurf => true,
            Client::ClaudeCode | Client::Codex | Client::Gemini => false,
        }
    }

    /// Variables peta itself reads that the client does not pass on to the servers it starts,
    /// so `peta install` writes their values here into each entry. Codex starts servers with
    /// a short list of its own (HOME, PATH, LANG, TERM, SHELL, the CA bundles, …).
    pub(crate) fn dropped_vars(self) -> &'static [&'static str] {
        match self {
            Client::Codex => &[
                "PETA_CONFIG",
                "XDG_RUNTIME_DIR",
                "XDG_STATE_HOME",
                "XDG_CONFIG_HOME",
            ],
            _ => &[],
        }
    }

    /// Variables peta needs that change with each login, so the client passes them on by
    /// name rather than peta writing a value (Codex's `env_vars`): the session bus, which
    /// the keyring and desktop notifications use.
    pub(crate) fn forwarded_vars(self) -> &'static [&'static str] {
        match self {
            Client::Codex => &["DBUS_SESSION_BUS_ADDRESS"],
            _ => &[],
        }
    }

    /// What to tell the person once the file is written.
    pub(crate) fn after_writing(self, scope: Scope) -> &'static str {
        match (self, scope) {
            (Client::ClaudeDesktop, _) => {
                "quit Claude Desktop completely and start it again to load the change"
            }
            (Client::ClaudeCode, Scope::Project) => {
                "Claude Code asks again before it uses the servers of a changed .mcp.json; restart it (or `claude mcp reset-project-choices`)"
            }
            (Client::ClaudeCode, _) => "restart Claude Code to load the change",
            (Client::Cursor, _) => {
                "restart Cursor, or turn the servers off and on in its MCP settings"
            }
            (Client::Vscode, _) => {
                "restart the servers from VS Code's MCP view (MCP: List Servers)"
            }
            (Client::Windsurf, _) => "refresh the servers in Windsurf's MCP settings",
            (Client::Codex, _) => "start a new Codex session; `codex mcp list` shows the servers",
            (Client::Gemini, _) => {
                "restart Gemini CLI (or /mcp refresh in it); `gemini mcp list` checks each server"
            }
        }
    }

    /// Every client, for finding whose a file is.
    pub(crate) const ALL: [Client; 7] = [
        Client::ClaudeDesktop,
        Client::ClaudeCode,
        Client::Cursor,
        Client::Vscode,
        Client::Windsurf,
        Client::Codex,
        Client::Gemini,
    ];
}

/// The syntax of a client's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// JSON, with comments and trailing commas allowed.
    Json,
    /// TOML (Codex).
    Toml,
}

/// The key path, from the document's root, of the object that holds the servers.
pub(crate) fn servers_path(client: Client, scope: Scope, project: &Path) -> Vec<String> {
    match (client, scope) {
        (Client::Vscode, _) => vec!["servers".into()],
        (Client::Codex, _) => vec!["mcp_servers".into()],
        (Client::ClaudeCode, Scope::Local) => vec![
            "projects".into(),
            project.to_string_lossy().into_owned(),
            "mcpServers".into(),
        ],
        _ => vec!["mcpServers".into()],
    }
}

/// The environment the file locations depend on, so tests can give their own.
pub(crate) struct Places {
    pub(crate) home: Option<PathBuf>,
    pub(crate) xdg_config_home: Option<PathBuf>,
    pub(crate) appdata: Option<PathBuf>,
    pub(crate) local_appdata: Option<PathBuf>,
    /// `CODEX_HOME`: Codex's directory instead of `~/.codex`.
    pub(crate) codex_home: Option<PathBuf>,
    /// `GEMINI_CLI_HOME`: the home Gemini CLI puts its `.gemini` in.
    pub(crate) gemini_home: Option<PathBuf>,
    pub(crate) project: PathBuf,
    pub(crate) os: Os,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Os {
    Linux,
    Mac,
    Windows,
}

impl Places {
    /// This machine's.
    pub(crate) fn here() -> std::io::Result<Places> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let os = if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Mac
        } else {
            Os::Linux
        };
        Ok(Places {
            home: var("HOME").or_else(|| var("USERPROFILE")),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            appdata: var("APPDATA"),
            local_appdata: var("LOCALAPPDATA"),
            codex_home: var("CODEX_HOME"),
            gemini_home: var("GEMINI_CLI_HOME"),
            project: std::env::current_dir()?,
            os,
        })
    }

    /// The files the client may keep its servers in for `scope`, most likely first. Empty
    /// when the client has no such scope.
    pub(crate) fn candidates(&self, client: Client, scope: Scope) -> Result<Vec<PathBuf>, String> {
        let home = || {
            self.home
                .clone()
                .ok_or_else(|| "HOME is not set, so the client's file cannot be found".to_owned())
        };
        let roaming = || -> Result<PathBuf, String> {
            match &self.appdata {
                Some(p) => Ok(p.clone()),
                None => Ok(home()?.join("AppData").join("Roaming")),
            }
        };
        // The per-OS application data folder (VS Code's and Claude Desktop's home).
        let app_config = || -> Result<PathBuf, String> {
            Ok(match self.os {
                Os::Mac => home()?.join("Library").join("Application Support"),
                Os::Windows => roaming()?,
                Os::Linux => match &self.xdg_config_home {
                    Some(p) => p.clone(),
                    None => home()?.join(".config"),
                },
            })
        };
        let project = &self.project;
        let unsupported = |what: &str| Err(format!("{} has no {what} scope", client.title()));
        Ok(match (client, scope) {
            (Client::ClaudeDesktop, Scope::User) => {
                let mut found = Vec::new();
                if self.os == Os::Windows {
                    // The Microsoft Store (MSIX) build keeps its files in a virtualised copy
                    // of AppData under its package folder.
                    let local = match &self.local_appdata {
                        Some(p) => p.clone(),
                        None => home()?.join("AppData").join("Local"),
                    };
                    found.extend(msix_configs(&local.join("Packages")));
                }
                found.push(
                    app_config()?
                        .join("Claude")
                        .join("claude_desktop_config.json"),
                );
                found
            }
            (Client::ClaudeDesktop, s) => return unsupported(scope_name(s)),
            (Client::ClaudeCode, Scope::User | Scope::Local) => vec![home()?.join(".claude.json")],
            (Client::ClaudeCode, Scope::Project) => vec![project.join(".mcp.json")],
            (Client::Cursor, Scope::User) => vec![home()?.join(".cursor").join("mcp.json")],
            (Client::Cursor, Scope::Project) => vec![project.join(".cursor").join("mcp.json")],
            (Client::Vscode, Scope::User) => {
                vec![app_config()?.join("Code").join("User").join("mcp.json")]
            }
            (Client::Vscode, Scope::Project) => vec![project.join(".vscode").join("mcp.json")],
            (Client::Windsurf, Scope::User) => {
                let codeium = home()?.join(".codeium");
                vec![
                    codeium.join("windsurf").join("mcp_config.json"),
                    codeium.join("mcp_config.json"),
                ]
            }
            (Client::Codex, Scope::User) => vec![match &self.codex_home {
                Some(p) => p.join("config.toml"),
                None => home()?.join(".codex").join("config.toml"),
            }],
            // Codex reads it only in a project the person trusts.
            (Client::Codex, Scope::Project) => vec![project.join(".codex").join("config.toml")],
            (Client::Gemini, Scope::User) => {
                let base = match &self.gemini_home {
                    Some(p) => p.clone(),
                    None => home()?,
                };
                vec![base.join(".gemini").join("settings.json")]
            }
            (Client::Gemini, Scope::Project) => {
                vec![project.join(".gemini").join("settings.json")]
            }
            (
                Client::Cursor | Client::Vscode | Client::Windsurf | Client::Codex | Client::Gemini,
                s,
            ) => {
                return unsupported(scope_name(s));
            }
        })
    }
}

impl Places {
    /// Whether `path` is one of the files `client` keeps its servers in, in any scope.
    pub(crate) fn keeps(&self, client: Client, path: &Path) -> bool {
        let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        [Scope::User, Scope::Project, Scope::Local]
            .iter()
            .any(|&s| {
                self.candidates(client, s)
                    .is_ok_and(|files| files.iter().any(|f| same(f, path)))
            })
    }

    /// The client whose usual file `path` is, if any.
    pub(crate) fn owner(&self, path: &Path) -> Option<Client> {
        Client::ALL.into_iter().find(|&c| self.keeps(c, path))
    }
}

pub(crate) fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::User => "user",
        Scope::Project => "project",
        Scope::Local => "local",
    }
}

/// `<Packages>/Claude_*/LocalCache/Roaming/Claude/claude_desktop_config.json`, for each
/// installed package of the Store build.
fn msix_configs(packages: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(packages) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("Claude_"))
        .map(|e| {
            e.path()
                .join("LocalCache")
                .join("Roaming")
                .join("Claude")
                .join("claude_desktop_config.json")
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(os: Os, root: &Path) -> Places {
        Places {
            home: Some(root.join("home")),
            xdg_config_home: None,
            appdata: Some(root.join("home/AppData/Roaming")),
            local_appdata: Some(root.join("home/AppData/Local")),
            codex_home: None,
            gemini_home: None,
            project: root.join("repo"),
            os,
        }
    }

    #[test]
    fn each_client_and_scope_has_its_file() {
        let root = Path::new("/r");
        let linux = places(Os::Linux, root);
        let mac = places(Os::Mac, root);
        let one = |p: &Places, c, s| p.candidates(c, s).expect("supported");
        assert_eq!(
            one(&linux, Client::ClaudeDesktop, Scope::User),
            [root.join("home/.config/Claude/claude_desktop_config.json")]
        );
        assert_eq!(
            one(&mac, Client::ClaudeDesktop, Scope::User),
            [root.join("home/Library/Application Support/Claude/claude_desktop_config.json")]
        );
        assert_eq!(
            one(&linux, Client::ClaudeCode, Scope::Local),
            [root.join("home/.claude.json")]
        );
        assert_eq!(
            one(&linux, Client::ClaudeCode, Scope::Project),
            [root.join("repo/.mcp.json")]
        );
        assert_eq!(
            one(&mac, Client::Vscode, Scope::User),
            [root.join("home/Library/Application Support/Code/User/mcp.json")]
        );
        assert_eq!(
            one(&linux, Client::Vscode, Scope::Project),
            [root.join("repo/.vscode/mcp.json")]
        );
        assert_eq!(
            one(&linux, Client::Cursor, Scope::User),
            [root.join("home/.cursor/mcp.json")]
        );
        assert_eq!(one(&linux, Client::Windsurf, Scope::User).len(), 2);
        assert!(linux.candidates(Client::Windsurf, Scope::Project).is_err());
        assert!(
            linux
                .candidates(Client::ClaudeDesktop, Scope::Project)
                .is_err()
        );
        assert!(linux.candidates(Client::Cursor, Scope::Local).is_err());
        assert_eq!(
            servers_path(Client::ClaudeCode, Scope::Local, Path::new("/w/p")),
            ["projects", "/w/p", "mcpServers"]
        );
        assert_eq!(servers_path(Client::Vscode, Scope::User, root), ["servers"]);
    }

    #[test]
    fn the_store_build_of_claude_desktop_is_found_on_windows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let windows = places(Os::Windows, dir.path());
        let msix = dir
            .path()
            .join("home/AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude");
        std::fs::create_dir_all(&msix).expect("mkdir");
        let found = windows
            .candidates(Client::ClaudeDesktop, Scope::User)
            .expect("supported");
        assert_eq!(
            found,
            [
                msix.join("claude_desktop_config.json"),
                dir.path()
                    .join("home/AppData/Roaming/Claude/claude_desktop_config.json")
            ]
        );
    }
}
