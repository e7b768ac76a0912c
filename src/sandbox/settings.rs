//! What the configuration and the command line say about confinement: the mode, and per
//! server the paths made writable, re-exposed or hidden, and the network switch.

use std::path::PathBuf;

/// Whether servers are confined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// Confine where the platform allows it; otherwise run unconfined with one warning.
    #[default]
    Auto,
    /// Refuse to start a server that cannot be confined.
    Required,
    /// Never confine.
    Off,
}

impl Mode {
    /// Reads the config's spelling.
    pub(crate) fn parse(text: &str) -> Option<Mode> {
        match text {
            "auto" => Some(Mode::Auto),
            "required" => Some(Mode::Required),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

/// One server's box, beyond the defaults every server gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Paths the server may write (they must exist).
    pub(crate) write: Vec<PathBuf>,
    /// Paths hidden by default that the server may read.
    pub(crate) read: Vec<PathBuf>,
    /// More paths to hide.
    pub(crate) hide: Vec<PathBuf>,
    /// `false`: a network namespace of its own, with loopback only.
    pub(crate) network: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            write: Vec::new(),
            read: Vec::new(),
            hide: Vec::new(),
            network: true,
        }
    }
}
