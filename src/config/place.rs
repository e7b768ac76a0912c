//! Which files may be the user's configuration. The user's configuration is trusted with
//! everything (servers, secrets, allow rules); a project's is trusted with nothing but
//! tightening rules. So the path of the user's file must be absolute (`--config`,
//! `$PETA_CONFIG`): a relative one is read from the directory the client started peta in,
//! which is the project's. And a file inside that project directory is never the user's,
//! however it is named (`/proc/self/cwd/peta.toml`, `$XDG_CONFIG_HOME` pointing into it).
//!
//! Refusing a relative path, rather than resolving it and showing where it led, is the
//! choice because peta is mostly started by GUI clients whose stderr nobody reads: a shown
//! path protects no one, and there is no case where the project's file should win.

use std::path::{Path, PathBuf};

use super::error::ConfigError;

/// `path`, given through `from`, if it is absolute.
pub(super) fn absolute(path: PathBuf, from: &'static str) -> Result<PathBuf, ConfigError> {
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(ConfigError::Relative { path, from })
    }
}

/// Refuses `file` as the user's configuration when it lies inside the project directory.
pub(super) fn outside_project(file: &Path, from: &'static str) -> Result<(), ConfigError> {
    let Some(project) = project_dir() else {
        return Ok(());
    };
    // A file that does not exist is refused later, for that; its directory may still show
    // where it would have been.
    let resolved = file.canonicalize().ok().or_else(|| {
        let dir = file.parent()?.canonicalize().ok()?;
        Some(dir.join(file.file_name()?))
    });
    match resolved {
        Some(resolved) if resolved.starts_with(&project) => Err(ConfigError::InProject {
            file: file.to_owned(),
            from,
            project,
        }),
        _ => Ok(()),
    }
}

/// The directory peta was started in, as a project: `None` when it is the user's home, one
/// of its ancestors (`/`, `/home`: where GUI clients start servers), or inside the user's
/// configuration directory (editing one's own file there is not a project).
fn project_dir() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
    // `/` holds everything: it is no project.
    cwd.parent()?;
    let home = home()?.canonicalize().ok()?;
    if home.starts_with(&cwd) || cwd.starts_with(own_config_dir(&home)) {
        return None;
    }
    Some(cwd)
}

/// Where the platform keeps the user's peta configuration, from the home directory alone.
fn own_config_dir(home: &Path) -> PathBuf {
    if cfg!(target_os = "macos") {
        home.join("Library/Application Support/peta")
    } else {
        home.join(".config").join("peta")
    }
}

/// The user's home directory as the system records it (the password database), not as
/// `$HOME` says: the environment is set by whoever starts peta, which may be a project's
/// client configuration.
#[cfg(unix)]
pub(crate) fn home() -> Option<PathBuf> {
    // SAFETY: getuid cannot fail.
    passwd_home(|pwd, buf, len, result| unsafe {
        libc::getpwuid_r(libc::getuid(), pwd, buf, len, result)
    })
}

/// The home directory of the user named `user`, from the password database.
#[cfg(unix)]
pub(crate) fn home_of(user: &str) -> Option<PathBuf> {
    let name = std::ffi::CString::new(user).ok()?;
    // SAFETY: `name` is a valid C string that outlives the call.
    passwd_home(|pwd, buf, len, result| unsafe {
        libc::getpwnam_r(name.as_ptr(), pwd, buf, len, result)
    })
}

#[cfg(unix)]
fn passwd_home(
    lookup: impl Fn(
        *mut libc::passwd,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::passwd,
    ) -> libc::c_int,
) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid out-parameter; the lookup fills it and points its
    // strings into `buf`, which lives until the home directory is copied out.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result = std::ptr::null_mut();
    let code = lookup(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
    if code != 0 || result.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir points to a NUL-terminated string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pwd.pw_dir) };
    let dir = Path::new(std::ffi::OsStr::from_bytes(dir.to_bytes()));
    (!dir.as_os_str().is_empty()).then(|| dir.to_owned())
}

#[cfg(not(unix))]
pub(crate) fn home() -> Option<PathBuf> {
    std::env::var_os("USERPROFILE")
        .or_else(|| std::env::var_os("HOME"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

#[cfg(not(unix))]
pub(crate) fn home_of(_user: &str) -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_refused() {
        assert!(absolute("peta.toml".into(), "PETA_CONFIG").is_err());
        assert!(absolute("./x/peta.toml".into(), "--config").is_err());
        assert!(absolute("/etc/peta.toml".into(), "--config").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_home_directory_comes_from_the_password_database() {
        let home = home().expect("this user has a home directory");
        assert!(home.is_absolute(), "{}", home.display());
        assert_eq!(home_of("root"), Some(PathBuf::from("/root")));
        assert_eq!(home_of("no-such-user-here"), None);
    }
}
