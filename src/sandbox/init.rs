//! The first process inside a server's box (PID 1 of its PID namespace), which is peta's
//! own executable run as `peta sandbox-init`. It applies the Landlock scopes to itself (so
//! the server inherits them), starts the server in a process group of its own with default
//! signal dispositions, reports on a descriptor whether the server's command could be
//! executed, passes SIGINT, SIGTERM and SIGHUP on to the server's group, reaps orphans, and
//! exits with the server's status (128+N for a signal). When it exits, the kernel ends every
//! process left in the namespace, whatever it did with setsid or setpgid.
//!
//! Why a process of peta's and not the server as PID 1: the kernel drops signals to a
//! namespace's init that it has no handler for, so a server there would not see the
//! SIGTERM of peta's shutdown; and bubblewrap does not forward signals itself.

use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use crate::cli::SandboxInitArgs;
use crate::error::Error;

/// The signals passed on to the server's group.
const FORWARDED: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

pub(crate) fn run(args: SandboxInitArgs) -> Result<u8, Error> {
    // SAFETY: the descriptor was handed over by `peta run` for this process alone.
    let mut ready = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(args.ready_fd) });
    set_cloexec(args.ready_fd);
    let argv: Vec<CString> = args
        .command
        .iter()
        .map(|a: &OsString| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::Usage("a server argument holds a NUL byte".into()))?;
    // Like peta itself: the server, same user in the same box, cannot read this process's
    // memory or environment, or attach to it.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let mask = take_signals();
    scope();
    let started = start(&argv, &mask);
    let report = match &started {
        Ok(pid) => format!("ok {pid}\n"),
        Err(errno) => format!("exec {errno}\n"),
    };
    // peta waits for this line before it lets the client talk to the server.
    let _ = ready.write_all(report.as_bytes());
    drop(ready);
    match started {
        Ok(server) => Ok(supervise(server)),
        Err(errno) => Ok(if errno == libc::ENOENT { 127 } else { 126 }),
    }
}

fn set_cloexec(fd: libc::c_int) {
    // SAFETY: fcntl on a descriptor number.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

extern "C" fn noted(_: libc::c_int) {}

/// Installs a handler for the forwarded signals and SIGCHLD (an init with the default
/// disposition would never see them) and blocks them, to take them with `sigwaitinfo`.
/// Returns the mask to give back to the server.
fn take_signals() -> libc::sigset_t {
    // SAFETY: sigaction and sigprocmask with initialised structures; the handler does
    // nothing, so it is async-signal-safe.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = noted as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
            libc::sigaddset(&mut set, sig);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

/// Landlock scopes (ABI 6+): no connecting to abstract UNIX sockets made outside the box
/// (a session bus or X server listening on one), no signals to processes outside it. Best
/// effort: older kernels enforce what they know.
fn scope() {
    use landlock::{ABI, Ruleset, RulesetAttr, Scope};
    let status = Ruleset::default()
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self());
    match status {
        Ok(status) => {
            tracing::debug!(?status.ruleset, abi = ?ABI::V6, "landlock scopes");
        }
        Err(e) => tracing::debug!(error = %e, "no landlock scopes"),
    }
}

/// Forks and executes the server; its pid, or the errno of the failed exec.
fn start(argv: &[CString], mask: &libc::sigset_t) -> Result<libc::pid_t, i32> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(errno());
    }
    let (read, write) = (fds[0], fds[1]);
    // SAFETY: after fork the child calls only async-signal-safe functions on memory
    // prepared before it (the argument vector, the mask) and then execs or _exits.
    match unsafe { libc::fork() } {
        -1 => Err(errno()),
        0 => unsafe {
            libc::setpgid(0, 0);
            for sig in FORWARDED.into_iter().chain([libc::SIGCHLD, libc::SIGPIPE]) {
                libc::signal(sig, libc::SIG_DFL);
            }
            libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut());
            libc::execvp(ptrs[0], ptrs.as_ptr());
            let e = errno().to_ne_bytes();
            libc::write(write, e.as_ptr().cast(), e.len());
            libc::_exit(127)
        },
        pid => {
            // SAFETY: closing our copy of the write end, then a read of four bytes.
            unsafe { libc::close(write) };
            let mut e = [0u8; 4];
            let n = unsafe { libc::read(read, e.as_mut_ptr().cast(), e.len()) };
            unsafe { libc::close(read) };
            if n == 4 {
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                return Err(i32::from_ne_bytes(e));
            }
            Ok(pid)
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Waits for the server, passing signals on and reaping orphans; the server's exit code.
fn supervise(server: libc::pid_t) -> u8 {
    // SAFETY: signal set operations on a local set; sigwaitinfo and waitpid fill locals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            libc::sigaddset(&mut set, sig);
        }
        loop {
            // The server may have ended before the first wait.
            if let Some(code) = reap(server) {
                return code;
            }
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let sig = libc::sigwaitinfo(&set, &mut info);
            if FORWARDED.contains(&sig) {
                libc::kill(-server, sig);
            }
        }
    }
}

/// Reaps every ended child; the server's exit code once it is among them.
fn reap(server: libc::pid_t) -> Option<u8> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid fills `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return None;
        }
        if pid == server {
            return Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status) as u8
            } else {
                128u8.wrapping_add(libc::WTERMSIG(status) as u8)
            });
        }
    }
}
