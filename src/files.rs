//! Private files: read only when nobody else could have written them, written atomically
//! with mode 0600 whatever the umask.
//!
//! Checks look at the opened file (`fstat`), not the path, so a rename between the check and
//! the read cannot swap in another file.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Why a private file was refused or could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("bad permissions: {} is {what} (mode {mode:03o}), so peta will not use it", path.display())]
    Loose {
        path: PathBuf,
        what: &'static str,
        mode: u32,
    },
    #[error("bad ownership: {} belongs to another user (uid {uid})", path.display())]
    Owner { path: PathBuf, uid: u32 },
}

impl FileError {
    pub(crate) fn hint(&self) -> String {
        match self {
            FileError::Read { .. } => "check the path and that it is a readable file".into(),
            FileError::Write { .. } => "check that the directory exists and is writable".into(),
            FileError::Loose { path, what, .. } => {
                let fix = if what.contains("read") {
                    "go-rwx"
                } else {
                    "go-w"
                };
                format!("chmod {fix} {}", path.display())
            }
            FileError::Owner { path, .. } => {
                format!("chown it to yourself or move it away: {}", path.display())
            }
        }
    }
}

/// How private a file must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Privacy {
    /// Others may read it but not write it (a config, a vault meant for git).
    NotWritable,
    /// Nobody else may read or write it (a private key).
    Secret,
}

/// Reads a file after checking its owner and mode on the opened descriptor.
pub(crate) fn read_checked(path: &Path, privacy: Privacy) -> Result<Zeroizing<Vec<u8>>, FileError> {
    let read = |source| FileError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read)?;
    check(&file, path, privacy)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes).map_err(read)?;
    Ok(bytes)
}

#[cfg(unix)]
fn check(file: &File, path: &Path, privacy: Privacy) -> Result<(), FileError> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.mode() & 0o777;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        return Err(FileError::Owner {
            path: path.to_owned(),
            uid: meta.uid(),
        });
    }
    if mode & 0o022 != 0 {
        return Err(FileError::Loose {
            path: path.to_owned(),
            what: "writable by other users",
            mode,
        });
    }
    if privacy == Privacy::Secret && mode & 0o044 != 0 {
        return Err(FileError::Loose {
            path: path.to_owned(),
            what: "readable by other users",
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check(_file: &File, _path: &Path, _privacy: Privacy) -> Result<(), FileError> {
    Ok(())
}

/// Replaces `path` with `bytes`: a new 0600 file beside it, synced, renamed over the old one,
/// and the directory synced. A crash leaves the old file or the new one, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let fail = |source| FileError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        // Directories peta makes are private; existing ones are left as they are.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(fail)?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        #[cfg(unix)]
        File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(fail)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_writes_are_private_and_loose_files_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub/key.txt");
        write_atomic(&path, b"one").expect("write");
        write_atomic(&path, b"two").expect("rewrite");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        assert_eq!(
            &*read_checked(&path, Privacy::Secret).expect("read"),
            b"two"
        );
        let leftovers = std::fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(read_checked(&path, Privacy::NotWritable).is_ok());
        let err = read_checked(&path, Privacy::Secret).expect_err("readable key");
        assert!(err.hint().contains("chmod go-rwx"), "{}", err.hint());

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).expect("chmod");
        let err = read_checked(&path, Privacy::NotWritable).expect_err("group-writable");
        assert!(err.to_string().contains("writable by other users"), "{err}");
        assert!(err.to_string().contains("mode 620"), "{err}");
    }
}
