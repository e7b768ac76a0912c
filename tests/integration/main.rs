//! End-to-end tests through the real `peta` binary.

mod support;

mod approval;
mod approve;
mod audit;
mod cli;
mod forward;
mod hostile;
mod install;
mod interop;
mod interop_matrix;
mod lifecycle;
mod pinning;
mod pins;
mod policy;
mod readme;
mod relay;
mod secret_cli;
mod secrets;
mod setup;
