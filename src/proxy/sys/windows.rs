//! Windows: a new process group for the child and tree kills with `taskkill`.
//! Untested here (the machines are Linux); job objects would be the stronger form.

use std::time::Duration;

use tokio::process::Command;

const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;

pub(crate) fn isolate(command: &mut Command) {
    command.creation_flags(CREATE_NEW_PROCESS_GROUP);
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Group(Option<u32>);

impl Group {
    pub(crate) fn of(child: &tokio::process::Child) -> Self {
        Group(child.id())
    }

    pub(crate) fn id(self) -> Option<i32> {
        self.0.map(|p| p as i32)
    }

    fn taskkill(self, force: bool) {
        if let Some(pid) = self.0 {
            let mut cmd = std::process::Command::new("taskkill");
            cmd.args(["/T", "/PID", &pid.to_string()]);
            if force {
                cmd.arg("/F");
            }
            let _ = cmd.output();
        }
    }

    pub(crate) fn terminate(self) {
        self.taskkill(false);
    }

    /// A signal peta received, passed on: Windows has none to forward, so the group is asked
    /// to end.
    pub(crate) fn forward(self, _sig: i32) {
        self.taskkill(false);
    }

    pub(crate) fn kill(self) {
        self.taskkill(true);
    }

    pub(crate) fn alive(self) -> bool {
        false
    }
}

/// Nothing to do here yet: Windows has no core dumps of this kind, and process access is
/// governed by the process's security descriptor.
pub(crate) fn harden() {}

pub(crate) fn signal_exit_code(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// No watchdog process on Windows yet: the child is ended by the normal shutdown only.
pub(crate) struct Watchdog;

impl Watchdog {
    pub(crate) fn start(_grace: Duration) -> std::io::Result<Self> {
        Ok(Watchdog)
    }
    pub(crate) fn guard(&mut self, _group: Group) {}
    pub(crate) fn dismiss(self) {}
}
