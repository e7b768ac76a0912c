//! Configuration: `raw` mirrors the TOML, `compile` checks it, `load` finds it.

mod compile;
mod error;
mod load;
mod raw;

pub(crate) use compile::{Config, expand_home, parse_duration};
pub(crate) use error::ConfigError;
pub(crate) use load::load;
