//! Who is on the other end of a console connection, and whether to answer them. The console
//! answers people: a peer of another user, a peer in another PID namespace (a confined
//! server, or anything else in a box), or a peer that descends from the server of a `peta
//! run` session is refused and logged. The last is defense in depth for `sandbox = "off"`:
//! a server's process that double-forks and calls setsid leaves the chain of parents, and
//! only the box (its own PID namespace, no view of the socket directory) stops that.

use std::path::PathBuf;

use tokio::net::UnixStream;

use super::dir::euid;

/// The process that connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) pid: Option<i32>,
    pub(crate) exe: Option<PathBuf>,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match (self.pid, &self.exe) {
            (Some(pid), Some(exe)) => write!(f, "pid {pid} ({})", exe.display()),
            (Some(pid), None) => write!(f, "pid {pid}"),
            (None, _) => write!(f, "an unknown process"),
        }
    }
}

/// Why a peer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("it runs as uid {uid}")]
    OtherUser { uid: u32 },
    #[error("it lives in another PID namespace (a sandbox)")]
    OtherNamespace,
    #[error("it descends from the server of the peta session with pid {peta}")]
    Server { peta: i32 },
    #[error("cannot tell who it is ({0})")]
    Unknown(String),
}

/// The peer of `stream`, if the console may answer it.
pub(crate) fn admit(stream: &UnixStream) -> Result<Peer, (Refusal, Option<i32>)> {
    let cred = stream
        .peer_cred()
        .map_err(|e| (Refusal::Unknown(e.to_string()), None))?;
    let pid = cred.pid();
    if cred.uid() != euid() {
        return Err((Refusal::OtherUser { uid: cred.uid() }, pid));
    }
    #[cfg(target_os = "linux")]
    {
        // A peer in a PID namespace that is not ours or below it shows as pid 0 (or none).
        let Some(pid) = pid.filter(|&p| p > 0) else {
            return Err((Refusal::OtherNamespace, pid));
        };
        linux::admit(pid).map_err(|r| (r, Some(pid)))?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        Ok(Peer {
            pid: Some(pid),
            exe,
        })
    }
    #[cfg(not(target_os = "linux"))]
    Ok(Peer { pid, exe: None })
}

#[cfg(target_os = "linux")]
mod linux {
    use super::Refusal;

    /// How far up the chain of parents to look.
    const MAX_DEPTH: usize = 256;

    /// A process's parent, session, and name, from `/proc/PID/stat`.
    pub(super) struct Stat {
        pub(super) comm: String,
        pub(super) ppid: i32,
        pub(super) session: i32,
    }

    pub(super) fn stat(pid: i32) -> Option<Stat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let comm = text.get(open + 1..close)?.to_owned();
        let mut rest = text.get(close + 1..)?.split_whitespace();
        let _state = rest.next()?;
        let ppid = rest.next()?.parse().ok()?;
        let _pgrp = rest.next()?;
        let session = rest.next()?.parse().ok()?;
        Some(Stat {
            comm,
            ppid,
            session,
        })
    }

    pub(super) fn admit(pid: i32) -> Result<(), Refusal> {
        let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
        match (ns(&pid.to_string()), ns("self")) {
            (Some(theirs), Some(ours)) if theirs == ours => {}
            (Some(_), Some(_)) => return Err(Refusal::OtherNamespace),
            _ => return Err(Refusal::Unknown(format!("no /proc/{pid}/ns/pid"))),
        }
        descends_from_a_server(pid, stat)
    }

    /// A server of `peta run` is the session leader peta forked and executed: a process
    /// that leads its own session and whose parent is a process named `peta`. Anything
    /// below one, or that one itself, is a server's.
    pub(super) fn descends_from_a_server(
        pid: i32,
        stat: impl Fn(i32) -> Option<Stat>,
    ) -> Result<(), Refusal> {
        let mut at = pid;
        for _ in 0..MAX_DEPTH {
            if at <= 1 {
                return Ok(());
            }
            let Some(me) = stat(at) else {
                // It exited while we looked: nobody to answer.
                return Err(Refusal::Unknown(format!("process {at} is gone")));
            };
            if me.session == at
                && let Some(parent) = stat(me.ppid)
                && parent.comm == "peta"
            {
                return Err(Refusal::Server { peta: me.ppid });
            }
            at = me.ppid;
        }
        Err(Refusal::Unknown("too deep a chain of parents".into()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn table(rows: &[(i32, &str, i32, i32)]) -> impl Fn(i32) -> Option<Stat> {
            let rows: Vec<(i32, String, i32, i32)> = rows
                .iter()
                .map(|&(p, c, pp, s)| (p, c.to_owned(), pp, s))
                .collect();
            move |pid| {
                rows.iter().find(|r| r.0 == pid).map(|r| Stat {
                    comm: r.1.clone(),
                    ppid: r.2,
                    session: r.3,
                })
            }
        }

        #[test]
        fn a_person_is_admitted_and_a_servers_descendant_is_not() {
            let procs = table(&[
                // A terminal: shell 100 leads its session; `peta approve` 101 under it.
                (90, "kitty", 1, 90),
                (100, "bash", 90, 100),
                (101, "peta", 100, 100),
                // peta run 200 (started by a client), its server 201 leads a session,
                // the server's child 202 and a child that called setpgid, 203.
                (150, "claude", 1, 150),
                (200, "peta", 150, 150),
                (201, "node", 200, 201),
                (202, "sh", 201, 201),
                (203, "peta", 202, 201),
                // The watchdog, also a child of peta run, does not lead a session.
                (204, "peta", 200, 150),
                // A grandchild that called setsid under the server.
                (205, "python3", 202, 205),
            ]);
            assert_eq!(descends_from_a_server(101, &procs), Ok(()));
            for pid in [201, 202, 203, 205] {
                assert_eq!(
                    descends_from_a_server(pid, &procs),
                    Err(Refusal::Server { peta: 200 }),
                    "{pid}"
                );
            }
            assert_eq!(descends_from_a_server(204, &procs), Ok(()));
        }

        #[test]
        fn this_process_is_admitted() {
            assert_eq!(admit(std::process::id() as i32), Ok(()));
        }
    }
}
