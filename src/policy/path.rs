//! Paths as a server reads them. A file server trims the text, expands `~`, reads a relative
//! path against its working directory (or a directory it was given), removes `//`, `/./`
//! and `..`, and the kernel follows symlinks. A rule written against `/etc/**` must see all
//! of that, so a path argument is tested in each of those forms: the text as sent, trimmed,
//! lexically normalised, made absolute, and resolved through the symlinks that exist.
//!
//! The forms are POSIX paths (`/` separated). What the file system says (the working
//! directory, home directories, symlinks) comes through the [`Host`] seam, so everything
//! here stays pure; the real one reads the machine (`config::host`).

use std::fmt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// What the policy needs to know of the machine the server runs on to read a path as the
/// server does.
pub(crate) trait Host: fmt::Debug + Send + Sync {
    /// Directories a relative path may be read against: the server's working directory
    /// first, then any others the server may use.
    fn bases(&self) -> Vec<PathBuf>;
    /// What `~` (`user` is `None`) or `~user` stands for; several when readers disagree.
    fn homes(&self, user: Option<&str>) -> Vec<PathBuf>;
    /// `path` with every symlink followed, as far as it exists, the rest appended as it is
    /// (a file about to be written through a symlinked directory); `None` when nothing of
    /// it can be resolved.
    fn resolve(&self, path: &Path) -> Option<PathBuf>;
}

/// A host that knows nothing: relative paths stay relative, `~` stays `~`, nothing is
/// resolved. What the policy uses until it is given the real one.
#[derive(Debug, Default)]
pub(crate) struct Lexical;

impl Host for Lexical {
    fn bases(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn homes(&self, _user: Option<&str>) -> Vec<PathBuf> {
        Vec::new()
    }

    fn resolve(&self, _path: &Path) -> Option<PathBuf> {
        None
    }
}

/// One way a server could read a path argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pub(crate) path: String,
    pub(crate) how: &'static str,
}

/// The forms of the path `text` a server could open, besides `text` itself, without
/// repeats. Absolute forms are marked by their leading `/`.
pub(crate) fn forms(text: &str, host: &dyn Host) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    let mut push = |path: String, how: &'static str| {
        if path != text && !path.is_empty() && !out.iter().any(|f| f.path == path) {
            out.push(Form { path, how });
        }
    };
    let mut spellings = vec![(text.to_owned(), "as sent")];
    let trimmed = text
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim()
        .to_owned();
    if trimmed != text {
        spellings.push((trimmed, "trimmed"));
    }
    if let Some(uri) = spellings.iter().find_map(|(s, _)| file_uri(s)) {
        spellings.push((uri, "the file: URI's path"));
    }
    for (spelling, how) in spellings {
        push(spelling.clone(), how);
        for expanded in expand_home(&spelling, host) {
            push(expanded, "~ expanded");
        }
        let mut absolute = Vec::new();
        for candidate in std::iter::once(spelling.clone()).chain(expand_home(&spelling, host)) {
            push(normalise(&candidate), "normalised");
            if candidate.starts_with('/') {
                absolute.push(candidate);
            } else {
                for base in host.bases() {
                    absolute.push(format!("{}/{candidate}", base.display()));
                }
            }
        }
        for path in absolute {
            let clean = normalise(&path);
            push(clean.clone(), "made absolute and normalised");
            // The kernel follows a symlink before the `..` after it; a server that
            // normalises first does not. Both, then.
            for raw in [path, clean] {
                if let Some(resolved) = host.resolve(Path::new(&raw)) {
                    push(resolved.display().to_string(), "symlinks followed");
                }
            }
        }
    }
    out
}

/// `~`, `~/rest`, `~user/rest` with the home directories they may stand for.
fn expand_home(text: &str, host: &dyn Host) -> Vec<String> {
    let Some(rest) = text.strip_prefix('~') else {
        return Vec::new();
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let user = (!user.is_empty()).then_some(user);
    host.homes(user)
        .into_iter()
        .map(|home| format!("{}{tail}", home.display()))
        .collect()
}

/// The path of a `file:` URI, percent-decoded: `file:///etc/passwd`, `file://localhost/x`.
fn file_uri(text: &str) -> Option<String> {
    let rest = text
        .get(..7)?
        .eq_ignore_ascii_case("file://")
        .then(|| &text[7..])?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Lexical normalisation: `//` and `/./` collapse, `..` removes the component before it
/// (at the root it stays at the root; a relative path keeps its leading `..`), and a
/// trailing `/` goes.
pub(crate) fn normalise(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// A `path` test's pattern: a glob over normalised absolute paths, in which `*` stops at
/// `/` and `**` crosses it; `DIR/**` also matches `DIR` itself.
#[derive(Debug, Clone)]
pub(crate) struct PathGlob {
    text: String,
    matcher: GlobMatcher,
    /// For `DIR/**`: `DIR`.
    dir: Option<String>,
}

impl PathGlob {
    pub(crate) fn new(text: &str) -> Result<PathGlob, String> {
        if !text.starts_with('/') {
            return Err(format!(
                "{text:?} is not an absolute path pattern: it must start with / or ~/"
            ));
        }
        let glob = GlobBuilder::new(text)
            .case_insensitive(false)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("{text:?} is not a valid glob: {}", e.kind()))?;
        let dir = text
            .strip_suffix("/**")
            .filter(|d| !d.contains(['*', '?', '[', '{']))
            .map(normalise);
        Ok(PathGlob {
            text: text.to_owned(),
            matcher: glob.compile_matcher(),
            dir,
        })
    }

    pub(crate) fn is_match(&self, path: &str) -> bool {
        self.matcher.is_match(path) || self.dir.as_deref() == Some(path)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A pretend machine: a working directory, homes, and symlinks (link → target).
    #[derive(Debug, Default)]
    pub(crate) struct Fake {
        pub(crate) bases: Vec<PathBuf>,
        pub(crate) homes: BTreeMap<String, PathBuf>,
        pub(crate) links: BTreeMap<String, String>,
    }

    impl Fake {
        pub(crate) fn new() -> Fake {
            Fake {
                bases: vec!["/srv/app".into()],
                homes: [
                    ("".into(), "/home/me".into()),
                    ("root".into(), "/root".into()),
                ]
                .into(),
                links: [
                    ("/srv/app/etc".into(), "/etc".into()),
                    ("/srv/app/hosts".into(), "/etc/hosts".into()),
                ]
                .into(),
            }
        }
    }

    impl Host for Fake {
        fn bases(&self) -> Vec<PathBuf> {
            self.bases.clone()
        }

        fn homes(&self, user: Option<&str>) -> Vec<PathBuf> {
            self.homes
                .get(user.unwrap_or(""))
                .cloned()
                .into_iter()
                .collect()
        }

        /// Follows the links component by component, as the kernel does.
        fn resolve(&self, path: &Path) -> Option<PathBuf> {
            let mut out = String::new();
            let mut hops = 0;
            let mut rest: Vec<String> =
                path.to_str()?.split('/').rev().map(str::to_owned).collect();
            while let Some(part) = rest.pop() {
                match part.as_str() {
                    "" | "." => {}
                    ".." => {
                        let cut = out.rfind('/').unwrap_or(0);
                        out.truncate(cut);
                    }
                    part => {
                        out = format!("{out}/{part}");
                        if let Some(target) = self.links.get(&out) {
                            hops += 1;
                            if hops > 40 {
                                return None;
                            }
                            rest.extend(target.split('/').rev().map(str::to_owned));
                            out.clear();
                        }
                    }
                }
            }
            Some(PathBuf::from(if out.is_empty() { "/".into() } else { out }))
        }
    }

    #[test]
    fn normalising_is_lexical() {
        for (path, expected) in [
            ("/etc/passwd", "/etc/passwd"),
            ("//etc//passwd", "/etc/passwd"),
            ("/etc/./passwd", "/etc/passwd"),
            ("/etc/passwd/", "/etc/passwd"),
            ("/tmp/../etc/passwd", "/etc/passwd"),
            ("/../../etc", "/etc"),
            ("/", "/"),
            ("a/./b//c/", "a/b/c"),
            ("a/../b", "b"),
            ("../a/../../b", "../../b"),
            (".", "."),
            ("./", "."),
            ("a/..", "."),
        ] {
            assert_eq!(normalise(path), expected, "{path}");
        }
    }

    fn paths(text: &str) -> Vec<String> {
        forms(text, &Fake::new())
            .into_iter()
            .map(|f| f.path)
            .collect()
    }

    #[test]
    fn each_form_a_server_could_open() {
        assert_eq!(paths("/etc/passwd"), Vec::<String>::new());
        assert!(paths("//etc//passwd").contains(&"/etc/passwd".into()));
        assert!(paths("/etc/./passwd").contains(&"/etc/passwd".into()));
        assert!(paths("/srv/app/../../etc/passwd").contains(&"/etc/passwd".into()));
        assert!(paths("~/.ssh/id_rsa").contains(&"/home/me/.ssh/id_rsa".into()));
        assert!(paths("~root/.ssh").contains(&"/root/.ssh".into()));
        assert!(paths("~").contains(&"/home/me".into()));
        assert!(paths("passwd").contains(&"/srv/app/passwd".into()));
        assert!(paths("./etc/passwd").contains(&"/etc/passwd".into()));
        assert!(paths("hosts").contains(&"/etc/hosts".into()));
        assert!(paths("../../etc/passwd").contains(&"/etc/passwd".into()));
        assert!(paths("  /etc/passwd \n").contains(&"/etc/passwd".into()));
        assert!(paths("'/etc/passwd'").contains(&"/etc/passwd".into()));
        assert!(paths("file:///etc/pass%77d").contains(&"/etc/passwd".into()));
        assert!(paths("FILE://localhost/etc/passwd").contains(&"/etc/passwd".into()));
        // A file about to be created through a symlinked directory.
        assert!(paths("/srv/app/etc/new.conf").contains(&"/etc/new.conf".into()));
        // The kernel follows etc before the `..`: /etc/../hosts is /hosts; lexically it
        // is /srv/app/hosts, a link to /etc/hosts. Both are forms.
        let both = paths("/srv/app/etc/../hosts");
        assert!(both.contains(&"/hosts".into()), "{both:?}");
        assert!(both.contains(&"/etc/hosts".into()), "{both:?}");
        // Without a host only the lexical forms remain.
        let lexical: Vec<String> = forms("~/../x/./y", &Lexical)
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(lexical, ["x/y"]);
    }

    #[test]
    fn path_patterns_respect_separators_and_cover_their_directory() {
        let p = PathGlob::new("/home/*/.ssh/**").expect("glob");
        assert!(p.is_match("/home/me/.ssh/id_rsa"));
        assert!(p.is_match("/home/me/.ssh/a/b"));
        assert!(!p.is_match("/home/me/x/.ssh/id_rsa"));
        let etc = PathGlob::new("/etc/**").expect("glob");
        assert!(etc.is_match("/etc"));
        assert!(etc.is_match("/etc/passwd"));
        assert!(!etc.is_match("/etcetera"));
        assert!(PathGlob::new("etc/**").is_err());
        assert!(PathGlob::new("/[").is_err());
    }
}
