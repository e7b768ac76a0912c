//! The proxy: the child process, the relay, and the session that ties them together.

pub(crate) mod child;
pub(crate) mod gate;
pub(crate) mod inflight;
pub(crate) mod mrtr;
pub(crate) mod observe;
pub(crate) mod pinning;
pub(crate) mod relay;
pub(crate) mod session;
pub(crate) mod stdio;
pub(crate) mod sys;
