//! One file per subcommand.

pub(crate) mod approve;
pub(crate) mod audit;
pub mod completions;
pub(crate) mod demo;
pub(crate) mod demo_server;
pub(crate) mod forward;
pub(crate) mod grants;
pub(crate) mod install;
pub(crate) mod policy;
pub(crate) mod run;
pub(crate) mod secret;
pub(crate) mod setup;
pub(crate) mod tools;
pub(crate) mod vault;
