//! Where the sessions' sockets live, and the checks that keep that place the user's own.
//!
//! The directory is `<runtime>/peta`, where `<runtime>` is `$XDG_RUNTIME_DIR` (when set to an
//! absolute path), else `/run/user/<uid>` when it is the user's own private directory (what
//! `XDG_RUNTIME_DIR` is set to on a systemd machine: clients such as Codex and the Inspector
//! start servers without the variable, and the session must land where the person's
//! terminal looks), else `/tmp/peta-<uid>`. `peta approve` looks in every one of these
//! places ([`SocketDir::search`]). The session side creates what is missing with mode
//! 0700. Both sides refuse to use it, ssh-style, when `<runtime>` belongs to another user or
//! others may write to it, or when `peta` belongs to another user, is a symbolic link, or
//! others may enter it at all (any group or world bit). The checks look at the opened
//! directory (`fstat`), not at the path.

use std::io;
use std::path::{Path, PathBuf};

/// Why the socket directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConsoleError {
    #[error(
        "bad ownership: {} belongs to another user (uid {uid}), so peta will not keep approval sockets there",
        path.display()
    )]
    Owner { path: PathBuf, uid: u32 },
    #[error(
        "bad permissions: {} is open to other users (mode {mode:03o}), so peta will not keep approval sockets there",
        path.display()
    )]
    Loose { path: PathBuf, mode: u32 },
    #[error("cannot use {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the approval console needs Unix sockets, which this platform lacks")]
    #[cfg_attr(
        unix,
        expect(dead_code, reason = "only where there are no Unix sockets")
    )]
    Unsupported,
}

impl ConsoleError {
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            ConsoleError::Owner { path, .. } => Some(format!(
                "set XDG_RUNTIME_DIR to a directory of your own, or remove {}",
                path.display()
            )),
            ConsoleError::Loose { path, .. } => Some(format!("chmod 700 {}", path.display())),
            ConsoleError::Io { path, .. } => Some(format!(
                "{} must be a directory of yours (not a link) that only you can enter",
                path.display()
            )),
            ConsoleError::Unsupported => {
                Some("answer in the terminal or desktop notification instead".into())
            }
        }
    }

    pub(super) fn io(path: &Path, source: io::Error) -> ConsoleError {
        ConsoleError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The directory of session sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SocketDir {
    runtime: PathBuf,
    path: PathBuf,
}

impl SocketDir {
    /// `$XDG_RUNTIME_DIR/peta`, else `/tmp/peta-<uid>/peta`. Not `$TMPDIR`: a session started
    /// by a GUI client and `peta approve` in a shell must agree on the place, and shells often
    /// set variables the GUI never sees.
    pub(crate) fn from_env() -> SocketDir {
        SocketDir::under(&runtime_dir(
            std::env::var_os("XDG_RUNTIME_DIR"),
            Path::new(RUN_USER),
            euid(),
        ))
    }

    /// Every place a session of this user could keep its socket, whatever its environment
    /// held: this environment's first, then `/run/user/<uid>` (when the user's own), then the
    /// `/tmp` fallback.
    pub(crate) fn search() -> Vec<SocketDir> {
        places(
            std::env::var_os("XDG_RUNTIME_DIR"),
            Path::new(RUN_USER),
            euid(),
        )
    }

    /// `<runtime>/peta`.
    pub(crate) fn under(runtime: &Path) -> SocketDir {
        SocketDir {
            runtime: runtime.to_owned(),
            path: runtime.join("peta"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The socket of `session`. Session ids are peta's own (`[A-Za-z0-9_-]`); anything else is
    /// refused so an id can never name a file outside the directory.
    pub(crate) fn socket(&self, session: &str) -> Result<PathBuf, ConsoleError> {
        let fine = !session.is_empty()
            && session.len() <= 64
            && session
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !fine {
            return Err(ConsoleError::io(
                &self.path,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{session:?} is not a session id"),
                ),
            ));
        }
        Ok(self.path.join(format!("{session}.sock")))
    }

    /// The session side: creates the runtime directory and `peta` (0700) if missing, then
    /// checks both.
    pub(crate) fn prepare(&self) -> Result<(), ConsoleError> {
        create_private(&self.runtime)?;
        check(&self.runtime, Strictness::NotWritable)?;
        create_private(&self.path)?;
        check(&self.path, Strictness::Private)
    }

    /// The client side: checks what exists and creates nothing. `Ok(false)` when there is no
    /// socket directory yet (no session ever started).
    pub(crate) fn check_existing(&self) -> Result<bool, ConsoleError> {
        if !self.path.exists() {
            return Ok(false);
        }
        check(&self.runtime, Strictness::NotWritable)?;
        check(&self.path, Strictness::Private)?;
        Ok(true)
    }
}

/// Where systemd (and elogind) make each user's runtime directory.
const RUN_USER: &str = "/run/user";

/// `$XDG_RUNTIME_DIR` (`var`) when absolute, else `<run_user>/<uid>` when it is the user's
/// private directory, else `/tmp/peta-<uid>`.
fn runtime_dir(var: Option<std::ffi::OsString>, run_user: &Path, uid: u32) -> PathBuf {
    if let Some(dir) = var.map(PathBuf::from).filter(|p| p.is_absolute()) {
        return dir;
    }
    users_own(run_user, uid).unwrap_or_else(|| fallback(uid))
}

fn fallback(uid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/peta-{uid}"))
}

/// `<run_user>/<uid>`, if it is a directory (not a link) of `uid` that only it may enter.
fn users_own(run_user: &Path, uid: u32) -> Option<PathBuf> {
    let dir = run_user.join(uid.to_string());
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.is_dir() && meta.uid() == uid && meta.mode() & 0o077 == 0).then_some(dir)
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, dir);
        None
    }
}

/// [`SocketDir::search`]'s places, each once.
fn places(var: Option<std::ffi::OsString>, run_user: &Path, uid: u32) -> Vec<SocketDir> {
    let mut runtimes = vec![runtime_dir(var, run_user, uid)];
    runtimes.extend(users_own(run_user, uid));
    runtimes.push(fallback(uid));
    let mut dirs: Vec<SocketDir> = Vec::new();
    for runtime in runtimes {
        let dir = SocketDir::under(&runtime);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Others may enter but not write (the runtime directory above ours).
    NotWritable,
    /// Others may not enter (`peta` itself); no symbolic link either.
    Private,
}

fn create_private(path: &Path) -> Result<(), ConsoleError> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(ConsoleError::io(path, e)),
    }
}

#[cfg(unix)]
fn check(path: &Path, strictness: Strictness) -> Result<(), ConsoleError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    let mut flags = libc::O_DIRECTORY;
    if strictness == Strictness::Private {
        flags |= libc::O_NOFOLLOW;
    }
    options.custom_flags(flags);
    let dir: std::fs::File = options.open(path).map_err(|e| ConsoleError::io(path, e))?;
    let meta = dir.metadata().map_err(|e| ConsoleError::io(path, e))?;
    if meta.uid() != euid() {
        return Err(ConsoleError::Owner {
            path: path.to_owned(),
            uid: meta.uid(),
        });
    }
    let mode = meta.mode() & 0o7777;
    let forbidden = match strictness {
        Strictness::NotWritable => 0o022,
        Strictness::Private => 0o077,
    };
    if mode & forbidden != 0 {
        return Err(ConsoleError::Loose {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check(_path: &Path, _strictness: Strictness) -> Result<(), ConsoleError> {
    Err(ConsoleError::Unsupported)
}

/// The effective uid.
#[cfg(unix)]
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
pub(crate) fn euid() -> u32 {
    0
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn made_private_and_loose_ones_refused() {
        let runtime = tempfile::tempdir().expect("dir");
        let fallback = runtime.path().join("peta-1000");
        let dir = SocketDir::under(&fallback);
        assert!(!dir.check_existing().expect("nothing yet"));
        dir.prepare().expect("created");
        assert_eq!(
            mode(&fallback),
            0o700,
            "the fallback runtime dir is made 0700"
        );
        assert_eq!(mode(dir.path()), 0o700);
        assert!(dir.check_existing().expect("checks"));

        for loose in [0o777, 0o750, 0o701] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(loose))
                .expect("chmod");
            for result in [dir.prepare(), dir.check_existing().map(drop)] {
                let err = result.expect_err("loose dir refused");
                let text = err.to_string();
                assert!(
                    text.contains(&dir.path().display().to_string())
                        && text.contains(&format!("mode {loose:o}")),
                    "{text}"
                );
                assert_eq!(
                    err.hint(),
                    Some(format!("chmod 700 {}", dir.path().display()))
                );
            }
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");

        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let err = dir.prepare().expect_err("others may write the runtime dir");
        assert!(
            matches!(&err, ConsoleError::Loose { path, .. } if path == &fallback),
            "{err}"
        );
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        dir.prepare()
            .expect("a runtime dir others may only enter is fine");
    }

    #[test]
    fn a_link_in_place_of_the_directory_is_refused() {
        let runtime = tempfile::tempdir().expect("dir");
        let elsewhere = tempfile::tempdir().expect("dir");
        std::os::unix::fs::symlink(elsewhere.path(), runtime.path().join("peta")).expect("link");
        let err = SocketDir::under(runtime.path())
            .prepare()
            .expect_err("a link is refused");
        assert!(matches!(err, ConsoleError::Io { .. }), "{err}");
    }

    #[test]
    fn session_ids_name_files_inside_only() {
        let dir = SocketDir::under(Path::new("/run/user/1000"));
        assert_eq!(
            dir.socket("0f3a_b-c").expect("fine"),
            Path::new("/run/user/1000/peta/0f3a_b-c.sock")
        );
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(dir.socket(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn without_the_variable_the_users_own_run_dir_comes_before_tmp() {
        use std::os::unix::fs::PermissionsExt;
        let run_user = tempfile::tempdir().expect("dir");
        let uid = euid();
        let own = run_user.path().join(uid.to_string());
        let var = |p: &str| Some(std::ffi::OsString::from(p));
        let runtimes = |var: Option<std::ffi::OsString>| -> Vec<PathBuf> {
            places(var, run_user.path(), uid)
                .into_iter()
                .map(|d| d.runtime)
                .collect()
        };
        // No /run/user/<uid>: the variable, else /tmp.
        assert_eq!(runtime_dir(None, run_user.path(), uid), fallback(uid));
        assert_eq!(
            runtime_dir(var("relative"), run_user.path(), uid),
            fallback(uid)
        );
        assert_eq!(runtimes(var("/x")), [PathBuf::from("/x"), fallback(uid)]);

        std::fs::create_dir(&own).expect("own dir");
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert_eq!(runtime_dir(None, run_user.path(), uid), own);
        assert_eq!(
            runtime_dir(var("/x"), run_user.path(), uid),
            PathBuf::from("/x"),
            "the variable wins"
        );
        assert_eq!(runtimes(None), [own.clone(), fallback(uid)]);
        assert_eq!(
            runtimes(var("/x")),
            [PathBuf::from("/x"), own.clone(), fallback(uid)],
            "peta approve looks everywhere"
        );
        assert_eq!(
            runtimes(var(own.to_str().expect("utf-8"))),
            [own.clone(), fallback(uid)],
            "each place once"
        );

        // Open to others: not the user's private place.
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(runtime_dir(None, run_user.path(), uid), fallback(uid));
        // A link in its place is not it either.
        std::fs::remove_dir(&own).expect("rmdir");
        let elsewhere = tempfile::tempdir().expect("dir");
        std::os::unix::fs::symlink(elsewhere.path(), &own).expect("link");
        assert_eq!(runtime_dir(None, run_user.path(), uid), fallback(uid));
    }
}
