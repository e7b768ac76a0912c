//! Confinement: every server peta starts runs in a box where the platform allows it
//! (DESIGN.md §11). On Linux the box is bubblewrap's: the filesystem read-only, peta's own
//! places and the user's secret stores hidden, a private `/tmp`, writes only where
//! configured, its own user, PID and IPC namespaces (and network namespace when a server
//! says `network = false`), dying with peta; Landlock scopes keep it from abstract sockets
//! and signals outside. Elsewhere there is no box yet: `auto` runs the server unconfined
//! with one warning, `required` refuses.
//!
//! The contract with the session: `sys::Group` is still the group peta signals and kills.
//! Confined, that group is bubblewrap and the box's first process (`init.rs`), which passes
//! SIGINT, SIGTERM and SIGHUP on to the server's own group; SIGKILL ends the box and every
//! process in it.

#[cfg(target_os = "linux")]
pub(crate) mod init;
#[cfg(target_os = "linux")]
mod layout;
#[cfg(target_os = "linux")]
mod linux;
mod places;
pub(crate) mod probe;
mod settings;

use std::ffi::OsString;
use std::io;
#[cfg(target_os = "linux")]
use std::path::Path;

pub use settings::Mode;
pub(crate) use settings::Settings;

pub(crate) use places::Places;

use crate::proxy::child;

/// Why a server was not started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SandboxError {
    /// The settings name paths a box cannot be built with.
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Layout(#[from] layout::LayoutError),
    /// `sandbox = "required"` and no box can be had here.
    #[error("the server cannot be confined here: {reason}")]
    Unavailable { reason: String, hint: String },
}

impl SandboxError {
    pub(crate) fn hint(&self) -> String {
        match self {
            #[cfg(target_os = "linux")]
            SandboxError::Layout(e) => e.hint(),
            SandboxError::Unavailable { hint, .. } => hint.clone(),
        }
    }
}

/// Why a start failed.
#[derive(Debug)]
pub(crate) enum StartError {
    /// The server's own command could not be started (not found, not executable, …).
    Server(io::Error),
    /// The box was refused or is impossible.
    Refused(SandboxError),
}

/// One server's confinement, as `peta run` resolved it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) mode: Mode,
    pub(crate) settings: Settings,
    pub(crate) places: Places,
    /// Where `write` and `read` came from, for errors: `servers.NAME.sandbox.write` or
    /// `--sandbox-write`.
    pub(crate) write_key: String,
    pub(crate) read_key: String,
}

/// A started server and whether it runs in a box.
pub(crate) struct Started {
    pub(crate) child: child::Child,
    pub(crate) confined: bool,
}

impl Request {
    /// The box of the configured server `server`, as its config says (`config_file` is the
    /// file in use, hidden from the server like the rest of peta's places).
    pub(crate) fn for_server(
        config: &crate::config::Config,
        config_file: Option<&std::path::Path>,
        server: &crate::config::Server,
    ) -> Request {
        let key = |field: &str| format!("servers.{}.sandbox.{field}", server.name);
        Request {
            mode: config.sandbox,
            settings: server.sandbox.clone(),
            places: Places::of(config, config_file),
            write_key: key("write"),
            read_key: key("read"),
        }
    }

    /// Checks the settings against peta's places (nothing to check with `off`).
    pub(crate) fn check(&self) -> Result<(), SandboxError> {
        if self.mode == Mode::Off {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        layout::check(
            &self.settings,
            &self.places,
            layout::Keys {
                write: &self.write_key,
                read: &self.read_key,
            },
            &layout::RealHost,
        )?;
        Ok(())
    }

    /// Starts `argv` with `env`, in a box unless the mode is `off` (or `auto` and no box can
    /// be had here, which is said once on stderr).
    pub(crate) async fn start(
        &self,
        argv: &[OsString],
        env: &[(OsString, OsString)],
    ) -> Result<Started, StartError> {
        let unconfined = || {
            child::spawn(argv, env)
                .map(|child| Started {
                    child,
                    confined: false,
                })
                .map_err(StartError::Server)
        };
        if self.mode == Mode::Off {
            return unconfined();
        }
        self.check().map_err(StartError::Refused)?;
        let why = match self.start_confined(argv, env).await {
            Ok(started) => return Ok(started),
            Err(Confining::Server(e)) => return Err(StartError::Server(e)),
            // The platform can make boxes, just not this one: never a reason to run unconfined.
            Err(Confining::Broken { reason, hint }) => {
                return Err(StartError::Refused(SandboxError::Unavailable {
                    reason,
                    hint,
                }));
            }
            Err(Confining::Unavailable { reason, hint }) => (reason, hint),
        };
        match self.mode {
            Mode::Required => Err(StartError::Refused(SandboxError::Unavailable {
                reason: why.0,
                hint: why.1,
            })),
            _ => {
                tracing::warn!(
                    "the server runs unconfined: {} (hint: {}; sandbox = \"off\" silences this)",
                    why.0,
                    why.1
                );
                unconfined()
            }
        }
    }

    #[cfg(target_os = "linux")]
    async fn start_confined(
        &self,
        argv: &[OsString],
        env: &[(OsString, OsString)],
    ) -> Result<Started, Confining> {
        let Some(bwrap) = linux::bwrap() else {
            return Err(Confining::Unavailable {
                reason: "bubblewrap (bwrap) is not installed".into(),
                hint: probe::INSTALL_HINT.into(),
            });
        };
        let exe = std::env::current_exe().map_err(|e| Confining::Unavailable {
            reason: format!("peta cannot tell where its own executable is: {e}"),
            hint: "run peta from an installed file".into(),
        })?;
        let mut options = linux::namespaces(self.settings.network);
        options.extend(layout::layout(
            &self.settings,
            &self.places,
            &exe,
            &layout::RealHost,
        ));
        // A TMPDIR outside the writable paths would be read-only (or, under /tmp, missing) in
        // the box: the box's own /tmp takes its place.
        let tmpdir = env
            .iter()
            .find(|(k, _)| k == "TMPDIR")
            .map(|(_, v)| Path::new(v));
        if tmpdir.is_some_and(|t| !self.settings.write.iter().any(|w| t.starts_with(w))) {
            options.extend(["--setenv", "TMPDIR", "/tmp"].map(OsString::from));
        }
        tracing::debug!(?options, "bubblewrap");
        match linux::start(&bwrap, &options, argv, env).await {
            Ok(child) => Ok(Started {
                child,
                confined: true,
            }),
            Err(linux::Failure::Exec(e)) => Err(Confining::Server(e)),
            Err(linux::Failure::Setup(said)) if linux::a_bare_box_works(&bwrap) => {
                Err(Confining::Broken {
                    reason: format!("bubblewrap cannot set up this server's box: {said}"),
                    hint: "a bare box works here, so one of this server's sandbox paths is the trouble; `peta config check` checks them".into(),
                })
            }
            Err(linux::Failure::Setup(said)) => Err(Confining::Unavailable {
                hint: probe::hint_for(&said),
                reason: format!("bubblewrap cannot set up a box: {said}"),
            }),
        }
    }

    #[cfg(not(target_os = "linux"))]
    async fn start_confined(
        &self,
        _argv: &[OsString],
        _env: &[(OsString, OsString)],
    ) -> Result<Started, Confining> {
        Err(Confining::Unavailable {
            reason: "confinement is implemented for Linux only".into(),
            hint: "set sandbox = \"off\" (or \"auto\") to run servers unconfined here".into(),
        })
    }
}

enum Confining {
    Server(io::Error),
    /// No box can be had here: `auto` runs the server unconfined.
    Unavailable {
        reason: String,
        hint: String,
    },
    /// Boxes work here but this one could not be built: refused whatever the mode.
    #[cfg_attr(
        not(target_os = "linux"),
        expect(dead_code, reason = "only Linux builds boxes")
    )]
    Broken {
        reason: String,
        hint: String,
    },
}
