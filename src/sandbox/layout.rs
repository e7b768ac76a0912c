//! The box as bubblewrap builds it: the filesystem read-only, private `/tmp`, `/dev` and
//! `/proc`, then one mount per rule, shallowest path first so the most specific rule wins;
//! peta's own places are hidden last, over everything. A pure function of the settings, the
//! places and what exists on the host, so the layout is table-tested without mounting.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::places::{PROTECTED_IN_WRITABLE, Places};
use super::settings::Settings;

/// What the layout needs to know about the host's filesystem.
pub(crate) trait Host {
    /// The path with every symbolic link resolved, or `None` when it does not exist.
    fn canonical(&self, path: &Path) -> Option<PathBuf>;
    fn is_dir(&self, path: &Path) -> bool;
}

/// The real filesystem.
pub(crate) struct RealHost;

impl Host for RealHost {
    fn canonical(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

/// Why a box cannot be built as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LayoutError {
    #[error("{key}: {} does not exist", path.display())]
    MissingWrite { key: String, path: PathBuf },
    #[error(
        "{key}: {} would let the server {verb} peta's own {}",
        path.display(), own.display()
    )]
    Own {
        key: String,
        path: PathBuf,
        own: PathBuf,
        verb: &'static str,
    },
}

impl LayoutError {
    pub(crate) fn hint(&self) -> String {
        match self {
            LayoutError::MissingWrite { path, .. } => format!(
                "create it (mkdir -p {}) or take it out of the list: a confined server can only write where something exists",
                path.display()
            ),
            LayoutError::Own { .. } => "peta's configuration, audit log, vault and sockets stay out of every server's reach; name a directory that neither holds nor lies inside them".into(),
        }
    }
}

/// Where a rule's list comes from, to name it in errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys<'a> {
    pub(crate) write: &'a str,
    pub(crate) read: &'a str,
}

/// Checks a server's settings against the places: each `write` path exists, and neither a
/// `write` path nor a `read` path reaches into peta's own places (a `write` path may not
/// hold one either: the server could create the file peta would read).
pub(crate) fn check(
    settings: &Settings,
    places: &Places,
    keys: Keys<'_>,
    host: &dyn Host,
) -> Result<(), LayoutError> {
    // Compare both spellings: the configured one (peta's places may not exist yet) and the
    // resolved one (a link may lead into them).
    let forms = |p: &Path| {
        let mut v = vec![p.to_owned()];
        if let Some(c) = host.canonical(p) {
            v.push(c);
        }
        v
    };
    let own: Vec<PathBuf> = places.own.iter().flat_map(|p| forms(p)).collect();
    for path in &settings.write {
        if host.canonical(path).is_none() {
            return Err(LayoutError::MissingWrite {
                key: keys.write.to_owned(),
                path: path.clone(),
            });
        }
        for form in forms(path) {
            if let Some(o) = own
                .iter()
                .find(|o| o.starts_with(&form) || form.starts_with(o))
            {
                return Err(LayoutError::Own {
                    key: keys.write.to_owned(),
                    path: path.clone(),
                    own: o.clone(),
                    verb: "write",
                });
            }
        }
    }
    for path in &settings.read {
        for form in forms(path) {
            if let Some(o) = own.iter().find(|o| form.starts_with(o)) {
                return Err(LayoutError::Own {
                    key: keys.read.to_owned(),
                    path: path.clone(),
                    own: o.clone(),
                    verb: "read",
                });
            }
        }
    }
    Ok(())
}

/// One mount of the box.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mount {
    /// An empty read-only directory over a hidden one.
    Empty(PathBuf),
    /// `/dev/null` over a hidden file.
    Null(PathBuf),
    ReadOnly(PathBuf),
    Writable(PathBuf),
}

impl Mount {
    fn path(&self) -> &Path {
        match self {
            Mount::Empty(p) | Mount::Null(p) | Mount::ReadOnly(p) | Mount::Writable(p) => p,
        }
    }
}

/// A rule before it is placed: hide, show read-only, or make writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Want {
    Hide,
    Read,
    Write,
}

/// What a path looks like inside the box, given the mounts placed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Hidden,
    ReadOnly,
    Writable,
}

/// The mounts below the base, in order.
struct Placed {
    mounts: Vec<Mount>,
}

impl Placed {
    /// The base: `/` read-only; `/dev`, `/proc` and `/tmp` the box's own.
    const PRIVATE: [&'static str; 3] = ["/dev", "/proc", "/tmp"];

    fn seen(&self, path: &Path) -> Seen {
        let mut best: Option<(usize, Seen)> = None;
        let mut consider = |at: &Path, seen: Seen| {
            if path.starts_with(at) {
                let depth = at.components().count();
                if best.is_none_or(|(d, _)| depth >= d) {
                    best = Some((depth, seen));
                }
            }
        };
        for private in Self::PRIVATE {
            consider(Path::new(private), Seen::Hidden);
        }
        for mount in &self.mounts {
            let seen = match mount {
                Mount::Empty(_) | Mount::Null(_) => Seen::Hidden,
                Mount::ReadOnly(_) => Seen::ReadOnly,
                Mount::Writable(_) => Seen::Writable,
            };
            consider(mount.path(), seen);
        }
        best.map_or(Seen::ReadOnly, |(_, seen)| seen)
    }

    fn hide(&mut self, path: &Path, host: &dyn Host) {
        if self.seen(path) != Seen::Hidden {
            self.mounts.push(if host.is_dir(path) {
                Mount::Empty(path.to_owned())
            } else {
                Mount::Null(path.to_owned())
            });
        }
    }

    fn read(&mut self, path: &Path) {
        if self.seen(path) != Seen::ReadOnly {
            self.mounts.push(Mount::ReadOnly(path.to_owned()));
        }
    }
}

/// The bubblewrap options (everything before the command) for one server's box. Paths that
/// do not exist on the host are left out: on a read-only filesystem the server cannot
/// create them.
pub(crate) fn layout(
    settings: &Settings,
    places: &Places,
    exe: &Path,
    host: &dyn Host,
) -> Vec<OsString> {
    let resolve = |list: &[PathBuf]| -> Vec<PathBuf> {
        list.iter().filter_map(|p| host.canonical(p)).collect()
    };
    let read = resolve(&settings.read);
    let write = resolve(&settings.write);
    let mut rules: Vec<(PathBuf, Want)> = Vec::new();
    for hidden in resolve(&places.secrets)
        .into_iter()
        .chain(resolve(&settings.hide))
    {
        // Naming a hidden path in `read` or `write` takes it off the hidden list.
        if !read.contains(&hidden) && !write.contains(&hidden) {
            rules.push((hidden, Want::Hide));
        }
    }
    rules.extend(read.iter().map(|p| (p.clone(), Want::Read)));
    rules.extend(write.iter().map(|p| (p.clone(), Want::Write)));
    for dir in &write {
        for name in PROTECTED_IN_WRITABLE {
            if let Some(p) = host.canonical(&dir.join(name))
                && p.starts_with(dir)
            {
                rules.push((p, Want::Read));
            }
        }
    }
    rules.sort_by(|(a, wa), (b, wb)| {
        (a.components().count(), wa, a).cmp(&(b.components().count(), wb, b))
    });
    rules.dedup();
    let mut placed = Placed { mounts: Vec::new() };
    for (path, want) in &rules {
        match want {
            Want::Hide => placed.hide(path, host),
            Want::Read => placed.read(path),
            Want::Write => placed.mounts.push(Mount::Writable(path.clone())),
        }
    }
    // peta's own last, over everything; then its executable, so the box's first process
    // can always be started.
    let mut own = resolve(&places.own);
    own.sort_by_key(|p| p.components().count());
    for path in &own {
        placed.hide(path, host);
    }
    if let Some(exe) = host.canonical(exe) {
        placed.read(&exe);
    }
    let mut args: Vec<OsString> = [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let mut emptied = Vec::new();
    for mount in &placed.mounts {
        let (flag, from, to): (&str, Option<&Path>, &Path) = match mount {
            Mount::Empty(p) => {
                emptied.push(p.clone());
                ("--tmpfs", None, p)
            }
            Mount::Null(p) => ("--ro-bind", Some(Path::new("/dev/null")), p),
            Mount::ReadOnly(p) => ("--ro-bind", Some(p), p),
            Mount::Writable(p) => ("--bind", Some(p), p),
        };
        args.push(flag.into());
        args.extend(from.map(OsString::from));
        args.push(to.into());
    }
    // Read-only once every mount inside them is in place.
    for p in emptied {
        args.push("--remount-ro".into());
        args.push(p.into());
    }
    args
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A made-up host: each path is a directory (`true`) or a file; links map to targets.
    struct Fake {
        entries: BTreeMap<PathBuf, bool>,
        links: BTreeMap<PathBuf, PathBuf>,
    }

    impl Fake {
        fn new(dirs: &[&str], files: &[&str]) -> Fake {
            let mut entries = BTreeMap::new();
            for d in dirs {
                entries.insert(PathBuf::from(d), true);
            }
            for f in files {
                entries.insert(PathBuf::from(f), false);
            }
            Fake {
                entries,
                links: BTreeMap::new(),
            }
        }
    }

    impl Host for Fake {
        fn canonical(&self, path: &Path) -> Option<PathBuf> {
            let path = self
                .links
                .iter()
                .find_map(|(link, to)| path.strip_prefix(link).ok().map(|rest| to.join(rest)))
                .unwrap_or_else(|| path.to_owned());
            let path = if path.as_os_str().to_string_lossy().ends_with('/') {
                PathBuf::from(path.to_string_lossy().trim_end_matches('/'))
            } else {
                path
            };
            self.entries.contains_key(&path).then_some(path)
        }

        fn is_dir(&self, path: &Path) -> bool {
            self.entries.get(path) == Some(&true)
        }
    }

    fn places(own: &[&str], secrets: &[&str]) -> Places {
        Places {
            own: own.iter().map(PathBuf::from).collect(),
            secrets: secrets.iter().map(PathBuf::from).collect(),
        }
    }

    fn settings(write: &[&str], read: &[&str], hide: &[&str]) -> Settings {
        let v = |l: &[&str]| l.iter().map(PathBuf::from).collect();
        Settings {
            write: v(write),
            read: v(read),
            hide: v(hide),
            network: true,
        }
    }

    /// The mounts after the base, as one line each.
    fn mounts(args: &[OsString]) -> Vec<String> {
        let words: Vec<String> = args[9..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let n = if words[i] == "--tmpfs" || words[i] == "--remount-ro" {
                2
            } else {
                3
            };
            out.push(words[i..i + n].join(" "));
            i += n;
        }
        out
    }

    const HOME: &[&str] = &[
        "/home/u",
        "/home/u/.ssh",
        "/home/u/.config",
        "/home/u/.config/peta",
        "/home/u/.local/state/peta",
        "/home/u/notes",
        "/home/u/notes/.git",
        "/home/u/notes/.git/hooks",
        "/home/u/.aws",
        "/run/user/1000",
        "/usr/bin",
    ];

    #[test]
    fn the_base_then_hides_then_peta_last() {
        let host = Fake::new(HOME, &["/home/u/.netrc", "/usr/bin/peta"]);
        let args = layout(
            &settings(&[], &[], &[]),
            &places(
                &[
                    "/home/u/.config/peta",
                    "/home/u/.local/state/peta",
                    "/run/user/1000",
                    "/tmp/peta-1000",
                ],
                &["/home/u/.ssh", "/home/u/.netrc", "/home/u/.gnupg"],
            ),
            Path::new("/usr/bin/peta"),
            &host,
        );
        assert_eq!(
            args[..9],
            [
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--tmpfs",
                "/tmp"
            ]
            .map(OsString::from)
        );
        assert_eq!(
            mounts(&args),
            [
                "--ro-bind /dev/null /home/u/.netrc",
                "--tmpfs /home/u/.ssh",
                "--tmpfs /run/user/1000",
                "--tmpfs /home/u/.config/peta",
                "--tmpfs /home/u/.local/state/peta",
                "--remount-ro /home/u/.ssh",
                "--remount-ro /run/user/1000",
                "--remount-ro /home/u/.config/peta",
                "--remount-ro /home/u/.local/state/peta",
            ],
            "missing paths (~/.gnupg, /tmp/peta-1000) need no mount; the executable is visible"
        );
    }

    #[test]
    fn the_most_specific_rule_wins_and_writable_dirs_keep_hooks_read_only() {
        let host = Fake::new(HOME, &["/home/u/.ssh/known_hosts", "/home/u/notes/key"]);
        let args = layout(
            &settings(
                &["/home/u/notes"],
                &["/home/u/.ssh/known_hosts", "/home/u/.aws"],
                &["/home/u/notes/key"],
            ),
            &places(&[], &["/home/u/.ssh", "/home/u/.aws"]),
            Path::new("/usr/bin/peta"),
            &host,
        );
        assert_eq!(
            mounts(&args),
            [
                "--tmpfs /home/u/.ssh",
                "--bind /home/u/notes /home/u/notes",
                "--ro-bind /dev/null /home/u/notes/key",
                "--ro-bind /home/u/.ssh/known_hosts /home/u/.ssh/known_hosts",
                "--ro-bind /home/u/notes/.git/hooks /home/u/notes/.git/hooks",
                "--remount-ro /home/u/.ssh",
            ],
            "~/.aws is named in read, so it is not hidden at all"
        );
    }

    #[test]
    fn a_write_path_under_tmp_is_bound_into_the_private_tmp() {
        let host = Fake::new(&["/tmp/x", "/tmp/x/y"], &[]);
        let args = layout(
            &settings(&["/tmp/x"], &[], &["/tmp/x/y", "/tmp/other"]),
            &places(&["/tmp/peta-0"], &[]),
            Path::new("/usr/bin/peta"),
            &host,
        );
        assert_eq!(
            mounts(&args),
            [
                "--bind /tmp/x /tmp/x",
                "--tmpfs /tmp/x/y",
                "--remount-ro /tmp/x/y"
            ]
        );
    }

    #[test]
    fn links_are_followed_before_mounting() {
        let mut host = Fake::new(&["/data/ssh", "/home/u"], &[]);
        host.links
            .insert(PathBuf::from("/home/u/.ssh"), PathBuf::from("/data/ssh"));
        let args = layout(
            &settings(&[], &[], &[]),
            &places(&[], &["/home/u/.ssh"]),
            Path::new("/usr/bin/peta"),
            &host,
        );
        assert_eq!(
            mounts(&args),
            ["--tmpfs /data/ssh", "--remount-ro /data/ssh"]
        );
    }

    #[test]
    fn the_executable_is_kept_read_only_where_it_would_be_hidden_or_writable() {
        let host = Fake::new(&["/home/u/bin"], &["/home/u/bin/peta"]);
        let args = layout(
            &settings(&["/home/u/bin"], &[], &[]),
            &places(&[], &[]),
            Path::new("/home/u/bin/peta"),
            &host,
        );
        assert_eq!(
            mounts(&args),
            [
                "--bind /home/u/bin /home/u/bin",
                "--ro-bind /home/u/bin/peta /home/u/bin/peta"
            ]
        );
    }

    #[test]
    fn settings_that_reach_peta_or_name_nothing_are_refused() {
        let host = Fake::new(HOME, &[]);
        let own = places(
            &["/home/u/.config/peta", "/home/u/.local/state/peta/audit.db"],
            &[],
        );
        let keys = Keys {
            write: "servers.fs.sandbox.write",
            read: "servers.fs.sandbox.read",
        };
        let check = |s: Settings| check(&s, &own, keys, &host);
        assert_eq!(
            check(settings(&["/home/u/notes"], &["/home/u/.ssh"], &[])),
            Ok(())
        );
        let err = check(settings(&["/home/u/nope"], &[], &[])).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "servers.fs.sandbox.write: /home/u/nope does not exist"
        );
        for (write, read) in [
            (&["/home/u"][..], &[][..]),
            (&["/home/u/.config"][..], &[][..]),
            (&["/home/u/.config/peta"][..], &[][..]),
            (&["/home/u/.local/state/peta"][..], &[][..]),
            (&[][..], &["/home/u/.config/peta"][..]),
            (&[][..], &["/home/u/.local/state/peta/audit.db"][..]),
        ] {
            let err = check(settings(write, read, &[])).expect_err("peta's own");
            assert!(
                matches!(err, LayoutError::Own { .. }) && err.to_string().contains("peta's own"),
                "{write:?} {read:?}: {err}"
            );
        }
        assert_eq!(
            check(settings(&[], &["/home/u/.config"], &[])),
            Ok(()),
            "reading above peta's places is fine: they are hidden over it"
        );
    }
}
