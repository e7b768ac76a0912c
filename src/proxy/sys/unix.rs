//! Unix: sessions and process groups, signals, and the fork-based watchdog.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use tokio::process::Command;

/// Makes the child a session leader (its own process group, no controlling terminal, so
/// it can neither read the person's keystrokes nor be reached by terminal signals) and keeps
/// every inherited descriptor but 0–2 from crossing `exec`.
pub(crate) fn isolate(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
    // functions (setsid, prctl, close_range, fcntl); it allocates nothing.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            {
                // If peta dies without running its shutdown, the child goes with it. The
                // watchdog takes care of the rest of the group.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() == 1 {
                    return Err(io::Error::other("peta exited while starting the server"));
                }
            }
            close_on_exec_from(3);
            Ok(())
        });
    }
}

/// Marks every descriptor from `first` up close-on-exec. Marking, not closing, keeps the
/// standard library's own exec-error pipe working.
fn close_on_exec_from(first: libc::c_int) {
    #[cfg(target_os = "linux")]
    {
        const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
        // SAFETY: a plain syscall on descriptor numbers.
        let done = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as libc::c_uint,
                libc::c_uint::MAX,
                CLOSE_RANGE_CLOEXEC,
            )
        } == 0;
        if done {
            return;
        }
    }
    // SAFETY: sysconf and fcntl on descriptor numbers; unknown ones fail harmlessly.
    let max = match unsafe { libc::sysconf(libc::_SC_OPEN_MAX) } {
        n if n > 0 => n.min(65_536) as libc::c_int,
        _ => 1024,
    };
    for fd in first..max {
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Closes every descriptor from 3 up except `keep`: two `close_range` calls on Linux, a loop
/// over the descriptor table elsewhere (with a high limit, 20,000 closes cost milliseconds,
/// on a core the server is starting on).
fn close_all_but(keep: libc::c_int) {
    #[cfg(target_os = "linux")]
    {
        let range = |first: libc::c_int, last: libc::c_uint| {
            first as libc::c_uint > last
                // SAFETY: a plain syscall on descriptor numbers.
                || unsafe {
                    libc::syscall(libc::SYS_close_range, first as libc::c_uint, last, 0)
                } == 0
        };
        if range(3, (keep as libc::c_uint).saturating_sub(1)) && range(keep + 1, libc::c_uint::MAX)
        {
            return;
        }
    }
    // SAFETY: sysconf and close on descriptor numbers; unknown ones fail harmlessly.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) }.clamp(64, 65_536) as libc::c_int;
    for fd in 3..max {
        if fd != keep {
            // SAFETY: as above.
            unsafe { libc::close(fd) };
        }
    }
}

/// The child's process group.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Group(Option<libc::pid_t>);

impl Group {
    pub(crate) fn of(child: &tokio::process::Child) -> Self {
        Group(child.id().map(|pid| pid as libc::pid_t))
    }

    pub(crate) fn id(self) -> Option<i32> {
        self.0
    }

    fn signal(self, sig: libc::c_int) -> bool {
        // SAFETY: killpg on a group id; at worst it fails with ESRCH.
        self.0.is_some_and(|g| unsafe { libc::killpg(g, sig) } == 0)
    }

    /// Delivers `sig`, a signal peta itself received, to the server's process group: what
    /// the server would have got from its client without peta in between. This is the one
    /// way the session passes a client's signal on; a confined server's group gets it too.
    pub(crate) fn forward(self, sig: i32) {
        self.signal(sig);
    }

    pub(crate) fn terminate(self) {
        self.signal(libc::SIGTERM);
    }

    pub(crate) fn kill(self) {
        self.signal(libc::SIGKILL);
    }

    /// Whether any process of the group is still running.
    pub(crate) fn alive(self) -> bool {
        self.signal(0)
    }
}

/// Makes peta non-dumpable (no core files, no ptrace attach, and `/proc/<peta>/environ` and
/// `/proc/<peta>/mem` unreadable by other processes of the same user, the server included)
/// and sets the core size limit to 0. The server, as a new program, is dumpable again but
/// inherits the core limit.
pub(crate) fn harden() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
    }
}

/// The exit code a process ended by signal `sig` reports, by shell convention.
pub(crate) fn signal_exit_code(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal().map(|s| 128 + s)
}

/// A watchdog process that ends the server's group if peta itself is killed (`kill -9`
/// leaves no chance to run a shutdown). It is forked before any thread exists, holds the
/// read end of a pipe and nothing else, and acts when the pipe reports end-of-file without
/// having been told the session ended cleanly.
pub(crate) struct Watchdog {
    pipe: std::fs::File,
    pid: libc::pid_t,
}

impl Watchdog {
    /// Forks the watchdog. Must be called while the process has a single thread.
    pub(crate) fn start(grace: Duration) -> io::Result<Self> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned here.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: the process is single-threaded (checked by the caller's contract), so the
        // child may run ordinary code after fork.
        match unsafe { libc::fork() } {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                drop(write);
                watch(read, grace)
            }
            pid => {
                drop(read);
                Ok(Watchdog {
                    pipe: std::fs::File::from(write),
                    pid,
                })
            }
        }
    }

    /// Tells the watchdog which group to guard.
    pub(crate) fn guard(&mut self, group: Group) {
        if let Some(g) = group.id() {
            // The watchdog reads this before anything else; if it is gone, there is nothing
            // left to tell.
            let _ = writeln!(self.pipe, "{g}");
        }
    }

    /// The session ended cleanly: the watchdog exits without acting.
    pub(crate) fn dismiss(mut self) {
        let _ = self.pipe.write_all(b"done\n");
        drop(self.pipe);
        // SAFETY: reaps the watchdog, which exits as soon as it reads the line above.
        unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
    }
}

/// The watchdog's whole life, in the forked process.
fn watch(read: OwnedFd, grace: Duration) -> ! {
    // SAFETY: plain syscalls in a single-threaded process that owns its descriptors.
    unsafe {
        // Out of the terminal's process group, so Ctrl-C aimed at the client spares it.
        libc::setpgid(0, 0);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        // Hold nothing of the client's: its pipes must close when peta exits.
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        close_all_but(read.as_raw_fd());
    }
    let mut pipe = std::fs::File::from(read);
    let mut said = Vec::new();
    // Reads until end-of-file: the pipe closes when peta exits, however it exits.
    let _ = pipe.read_to_end(&mut said);
    let said = String::from_utf8_lossy(&said);
    let group = said
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<libc::pid_t>().ok());
    if let Some(group) = group.filter(|_| !said.lines().any(|l| l == "done")) {
        let group = Group(Some(group));
        group.terminate();
        let deadline = Instant::now() + grace;
        while group.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        group.kill();
    }
    // SAFETY: leaves without running the parent's atexit handlers or destructors.
    unsafe { libc::_exit(0) }
}
