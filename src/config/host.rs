//! The real machine behind the policy's path tests (`policy::Host`): the directories a
//! relative path may be read against, the home directories `~` may stand for, and the
//! symlinks of the file system.

use std::path::{Path, PathBuf};

use crate::policy::Host;

/// This machine, as the server peta starts sees it.
#[derive(Debug, Clone)]
pub(crate) struct LocalHost {
    bases: Vec<PathBuf>,
    home: Option<PathBuf>,
}

impl LocalHost {
    /// For a server started in peta's working directory with peta's `HOME`.
    pub(crate) fn here() -> LocalHost {
        LocalHost {
            bases: std::env::current_dir().into_iter().collect(),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Also reads relative paths against each existing directory named on the server's
    /// command line: servers that are given directories resolve relative paths there (the
    /// reference filesystem server does, against the first it was given).
    pub(crate) fn with_command<S: AsRef<std::ffi::OsStr>>(mut self, argv: &[S]) -> LocalHost {
        for arg in argv.iter().skip(1) {
            let path = Path::new(arg.as_ref());
            if path.is_absolute() && path.is_dir() && !self.bases.iter().any(|b| b == path) {
                self.bases.push(path.to_owned());
            }
        }
        self
    }
}

impl Host for LocalHost {
    fn bases(&self) -> Vec<PathBuf> {
        self.bases.clone()
    }

    fn homes(&self, user: Option<&str>) -> Vec<PathBuf> {
        match user {
            Some(user) => super::place::home_of(user).into_iter().collect(),
            None => {
                let mut homes: Vec<PathBuf> = self.home.iter().cloned().collect();
                if let Some(own) = super::place::home()
                    && !homes.contains(&own)
                {
                    homes.push(own);
                }
                homes
            }
        }
    }

    fn resolve(&self, path: &Path) -> Option<PathBuf> {
        match path.canonicalize() {
            Ok(resolved) => Some(resolved),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Not there (yet): resolve what exists, keep the rest.
                let parent = path.parent()?;
                let name = path.file_name()?;
                Some(self.resolve(parent)?.join(name))
            }
            Err(_) => None,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn symlinks_are_followed_as_far_as_the_path_exists() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir(root.join("real")).expect("real");
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("link");
        let host = LocalHost {
            bases: vec![root.clone()],
            home: None,
        };
        assert_eq!(host.resolve(&root.join("link")), Some(root.join("real")));
        assert_eq!(
            host.resolve(&root.join("link/new/file.txt")),
            Some(root.join("real/new/file.txt"))
        );
        assert_eq!(
            host.resolve(&root.join("link/../real")),
            Some(root.join("real"))
        );
        let with =
            LocalHost::here().with_command(&["server", root.to_str().expect("utf-8"), "--flag"]);
        assert!(with.bases().contains(&root));
        assert_eq!(host.homes(Some("root")), [PathBuf::from("/root")]);
    }
}
