//! `peta install` / `peta uninstall`: wrapping the servers of a client's config file, and
//! putting them back.
//!
//! `clients` knows where each client keeps its servers, `jsonc` reads those files keeping
//! every byte's position, `plan` works out the new text, `place` settles where credentials
//! go, and `record` remembers what was changed so it can be undone exactly.

pub(crate) mod clients;
pub(crate) mod jsonc;
pub(crate) mod place;
pub(crate) mod plan;
pub(crate) mod record;
