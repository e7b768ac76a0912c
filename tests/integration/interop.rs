//! Interop with real MCP peers: the official Python SDK client (PyPI `mcp`) drives
//! `@modelcontextprotocol/server-everything` (npm) and peta's demo server, directly and
//! through `peta run`; the reports must be identical.

use std::process::Command;

use crate::support::{external, fixture, peta};

/// Runs the Python SDK client scenario against `server` and returns its JSON report.
#[track_caller]
fn report(python: &str, scenario: &str, extra: &[&str], server: &[&str]) -> serde_json::Value {
    let out = Command::new(python)
        .arg(fixture("mcp_client.py"))
        .args(["--scenario", scenario])
        .args(extra)
        .arg("--")
        .args(server)
        .env("PETA_LOG", "warn")
        .env("XDG_STATE_HOME", crate::support::state_home())
        .env("XDG_CONFIG_HOME", crate::support::state_home())
        .env_remove("PETA_CONFIG")
        .env("PETA_INTEROP_MARK", "mark ✓")
        .output()
        .expect("run the Python SDK client");
    assert!(
        out.status.success(),
        "{scenario} against {server:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints one JSON report")
}

#[test]
fn python_sdk_against_server_everything_directly_and_through_peta() {
    let (Some(python), Some(everything)) =
        (external("PETA_E2E_PYTHON"), external("PETA_E2E_EVERYTHING"))
    else {
        return;
    };
    let direct = report(&python, "everything", &[], &["node", &everything, "stdio"]);
    let through = report(
        &python,
        "everything",
        &[],
        &[peta(), "run", "--", "node", &everything, "stdio"],
    );
    assert_eq!(direct, through);
    // The report is only worth comparing if the round trips actually happened.
    let steps = &through["steps"];
    assert_eq!(steps["sampling"]["callback_ran"], true, "{through}");
    assert_eq!(steps["elicitation"]["callback_ran"], true, "{through}");
    assert_eq!(steps["progress"]["progress_seen"], true, "{through}");
    assert_eq!(steps["cancel"]["sent"], true, "{through}");
    assert_eq!(steps["cancel"]["after"], "ok", "{through}");
    assert_eq!(steps["cancel"]["late_response"], false, "{through}");
}

#[test]
fn python_sdk_against_the_demo_server_directly_and_through_peta() {
    let Some(python) = external("PETA_E2E_PYTHON") else {
        return;
    };
    let args = ["--env-name", "PETA_INTEROP_MARK"];
    let direct = report(&python, "demo", &args, &[peta(), "demo-server"]);
    let through = report(
        &python,
        "demo",
        &args,
        // The server's environment is built, not inherited: the variable is declared.
        &[
            peta(),
            "run",
            "--env",
            "PETA_INTEROP_MARK=mark ✓",
            "--",
            peta(),
            "demo-server",
        ],
    );
    assert_eq!(direct, through);
    let text = through.to_string();
    assert!(
        text.contains("héllo ✓ 🚀") && text.contains("mark ✓"),
        "{text}"
    );
}
