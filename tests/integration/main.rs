//! End-to-end tests through the real `peta` binary.

mod support;

mod cli;
mod interop;
mod lifecycle;
mod relay;
