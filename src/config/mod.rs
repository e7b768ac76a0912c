//! Configuration: `raw` mirrors the TOML, `compile` checks it (`policy` compiles the rules),
//! `load` finds it, `project` adds the rules of a project's own `peta.toml`.

mod compile;
mod error;
mod forward;
mod host;
mod load;
mod place;
mod policy;
mod project;
mod raw;

pub(crate) use compile::{Config, Server, expand_home, parse_duration};
pub(crate) use error::ConfigError;
pub(crate) use host::LocalHost;
#[cfg(test)]
pub(crate) use load::parse;
pub(crate) use load::{config_dir, load, load_to_check, locate};
