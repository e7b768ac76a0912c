//! The wire: newline framing and the strict JSON-RPC envelope.

pub(crate) mod envelope;
pub(crate) mod framing;
pub(crate) mod strict;
