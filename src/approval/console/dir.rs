//! Where the sessions' sockets live, and the checks that keep that place the user's own.
//!
//! The directory is `<runtime>/peta`, where `<runtime>` is `$XDG_RUNTIME_DIR` (when set to an
//! absolute path), else `/tmp/peta-<uid>`. The session side creates what is missing with mode
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
        let runtime = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| PathBuf::from(format!("/tmp/peta-{}", euid())));
        SocketDir::under(&runtime)
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
}
