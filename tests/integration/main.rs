//! End-to-end tests through the real `peta` binary.

mod support;

mod approval;
mod approve;
mod audit;
mod channels;
mod cli;
mod clients;
mod confinement;
mod environment;
mod forward;
mod health_checks;
mod hostile;
mod identity;
mod install;
mod interop;
mod interop_matrix;
mod lenient;
mod lifecycle;
mod pinning;
mod pins;
mod policy;
mod readme;
mod relay;
mod secret_cli;
mod secrets;
mod setup;
