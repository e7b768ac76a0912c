//! The child's environment, built rather than inherited: the allow-listed variables of
//! peta's own environment plus the server's declared entries, with every reference resolved
//! before the child starts. One that cannot be resolved stops the start; the child never
//! runs with a partial environment.

use std::ffi::OsString;

use super::SecretValue;
use super::reference::{Source, looks_like_credential};

/// Variables passed from peta's environment when the configuration does not say otherwise.
/// `NAME*` matches every variable starting with NAME. Besides the basics: the well-known
/// non-secret settings servers need to reach the network as the rest of the machine does
/// (CA bundles, proxies; a credential inside a proxy URL is redacted like an injected
/// secret), the XDG base directories (where a server keeps its data), and the project
/// directory Claude Code names.
#[cfg(not(windows))]
pub(crate) const DEFAULT_ALLOW: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TERM",
    "TMPDIR",
    "TZ",
    "XDG_*",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "CLAUDE_PROJECT_DIR",
];
#[cfg(windows)]
pub(crate) const DEFAULT_ALLOW: &[&str] = &[
    "PATH",
    "PATHEXT",
    "SystemRoot",
    "SystemDrive",
    "windir",
    "ComSpec",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "USERNAME",
    "APPDATA",
    "LOCALAPPDATA",
    "ProgramData",
    "ProgramFiles",
    "ProgramFiles(x86)",
    "HOMEDRIVE",
    "HOMEPATH",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "CLAUDE_PROJECT_DIR",
];

/// The variables whose value is a proxy URL, which may carry a credential.
const PROXIES: &[&str] = &["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"];

/// The environment for the child, and the injected secrets to redact.
#[derive(Debug, Default)]
pub(crate) struct ChildEnv {
    pub(crate) vars: Vec<(OsString, OsString)>,
    /// Values that came from references: `(variable, value)`.
    pub(crate) secrets: Vec<(String, SecretValue)>,
    /// Things the person should hear about (never containing a value).
    pub(crate) warnings: Vec<String>,
    /// The names of peta's own variables the server does not get, sorted (never values).
    pub(crate) dropped: Vec<String>,
}

/// Why the environment could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvError {
    #[error("{key}={reference}: peta's environment has no {name}")]
    MissingEnv {
        key: String,
        reference: String,
        name: String,
    },
    #[error("{key}={reference}: {reason}")]
    Unresolved {
        key: String,
        reference: String,
        reason: String,
        hint: String,
    },
    #[error("{key}: the value {why}")]
    BadValue { key: String, why: &'static str },
    #[error("{key}: not a valid environment variable name")]
    BadName { key: String },
}

impl EnvError {
    pub(crate) fn hint(&self) -> String {
        match self {
            EnvError::MissingEnv { name, .. } => {
                format!("set {name} in the environment peta starts in, or change the reference")
            }
            EnvError::Unresolved { hint, .. } => hint.clone(),
            EnvError::BadValue { .. } => {
                "environment values must be text without NUL characters".into()
            }
            EnvError::BadName { .. } => {
                "names are letters, digits and _, not starting with a digit".into()
            }
        }
    }
}

/// Why a backend could not give a value: the reason and the fix, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable {
    pub(crate) reason: String,
    pub(crate) hint: String,
}

/// Where `keyring:` and `age:` references are looked up.
pub(crate) trait Backends {
    fn keyring(&mut self, name: &str) -> Result<SecretValue, Unavailable>;
    fn vault(&mut self, name: &str) -> Result<SecretValue, Unavailable>;
}

/// Builds the environment from `allow` (patterns over peta's own environment) and the
/// declared `(name, entry)` pairs, later entries overriding earlier ones.
pub(crate) fn build(
    allow: &[String],
    declared: &[(String, String)],
    backends: &mut dyn Backends,
) -> Result<ChildEnv, EnvError> {
    let mut env = ChildEnv::default();
    for (key, value) in std::env::vars_os() {
        if allowed(allow, &key) {
            env.vars.push((key, value));
        } else if !declared.iter().any(|(k, _)| key == k.as_str()) {
            env.dropped.push(key.to_string_lossy().into_owned());
        }
    }
    env.dropped.sort();
    for (key, entry) in declared {
        if key.is_empty() || key.contains(['=', '\0']) {
            return Err(EnvError::BadName { key: key.clone() });
        }
        let source = Source::parse(entry);
        let value = match &source {
            Source::Plain(value) => {
                if looks_like_credential(key, value) {
                    env.warnings.push(format!(
                        "{key} holds what looks like a credential in plain text; move it into the keyring \
                         with `peta secret set {key}` and write {key} = \"keyring:{key}\" instead"
                    ));
                    // Still a secret to keep out of what flows back.
                    env.secrets
                        .push((key.clone(), SecretValue::new(value.clone())));
                }
                value.clone()
            }
            Source::Env(name) => {
                let value = std::env::var_os(name).ok_or_else(|| EnvError::MissingEnv {
                    key: key.clone(),
                    reference: source.describe(),
                    name: name.clone(),
                })?;
                let value = value.into_string().map_err(|_| EnvError::BadValue {
                    key: key.clone(),
                    why: "is not valid UTF-8",
                })?;
                env.secrets
                    .push((key.clone(), SecretValue::new(value.clone())));
                value
            }
            Source::Keyring(name) | Source::Age(name) => {
                let found = if matches!(source, Source::Keyring(_)) {
                    backends.keyring(name)
                } else {
                    backends.vault(name)
                };
                let secret = found.map_err(|u| EnvError::Unresolved {
                    key: key.clone(),
                    reference: source.describe(),
                    reason: u.reason,
                    hint: u.hint,
                })?;
                let value = secret.expose().to_owned();
                env.secrets.push((key.clone(), secret));
                value
            }
        };
        if value.contains('\0') {
            return Err(EnvError::BadValue {
                key: key.clone(),
                why: "contains a NUL character",
            });
        }
        env.vars.retain(|(k, _)| k != key.as_str());
        env.vars.push((key.into(), value.into()));
    }
    for (key, value) in &env.vars {
        let Some(name) = key.to_str().filter(|k| is_proxy(k)) else {
            continue;
        };
        for credential in proxy_credentials(&value.to_string_lossy()) {
            if !env.secrets.iter().any(|(_, s)| s.expose() == credential) {
                env.secrets
                    .push((name.to_owned(), SecretValue::new(credential)));
            }
        }
    }
    Ok(env)
}

/// Whether `allow` passes peta's variable `key` to the server.
pub(crate) fn allowed(allow: &[String], key: &std::ffi::OsStr) -> bool {
    key.to_str()
        .is_some_and(|k| allow.iter().any(|pattern| matches(pattern, k)))
}

fn is_proxy(name: &str) -> bool {
    PROXIES.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// The credential in a proxy URL's user part (`scheme://user:password@host`): the password,
/// or a lone user name (often a token), as written and percent-decoded.
fn proxy_credentials(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((userinfo, _host)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let credential = match userinfo.split_once(':') {
        Some((_, password)) => password,
        None => userinfo,
    };
    if credential.is_empty() {
        return Vec::new();
    }
    let mut found = vec![credential.to_owned()];
    let decoded = percent_decode(credential);
    if decoded != credential {
        found.push(decoded);
    }
    found
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// A keyring holding `gh` and a vault holding `db`.
    struct Fake;

    impl Backends for Fake {
        fn keyring(&mut self, name: &str) -> Result<SecretValue, Unavailable> {
            match name {
                "gh" => Ok(SecretValue::new("ghp_from_the_keyring".into())),
                _ => Err(Unavailable {
                    reason: "there is no such item".into(),
                    hint: format!("store it with `peta secret set {name}`"),
                }),
            }
        }
        fn vault(&mut self, name: &str) -> Result<SecretValue, Unavailable> {
            match name {
                "db" => Ok(SecretValue::new("postgres://from-the-vault".into())),
                _ => Err(Unavailable {
                    reason: "the vault holds no such secret".into(),
                    hint: "add it".into(),
                }),
            }
        }
    }

    fn build(allow: &[String], declared: &[(String, String)]) -> Result<ChildEnv, EnvError> {
        super::build(allow, declared, &mut Fake)
    }

    #[test]
    fn only_the_allow_list_and_the_declared_entries() {
        // PATH is set in every test environment; CARGO_PKG_NAME is set by cargo and not allowed.
        let env = build(&allow(&["PATH", "LC_*"]), &[("A".into(), "1".into())]).expect("env");
        let keys: Vec<_> = env
            .vars
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert!(keys.contains(&"PATH".to_owned()));
        assert!(
            keys.iter()
                .all(|k| k == "PATH" || k == "A" || k.starts_with("LC_")),
            "{keys:?}"
        );
        assert!(env.secrets.is_empty());
    }

    #[test]
    fn references_resolve_or_stop_the_start() {
        let env = build(&[], &[("P".into(), "env:PATH".into())]).expect("env");
        assert_eq!(env.secrets.len(), 1);
        assert_eq!(
            env.secrets[0].1.expose(),
            std::env::var("PATH").expect("PATH")
        );
        let err = build(
            &[],
            &[("T".into(), "env:PETA_SURELY_UNSET_VARIABLE".into())],
        )
        .expect_err("missing");
        assert!(
            err.to_string().contains("T=env:PETA_SURELY_UNSET_VARIABLE"),
            "{err}"
        );
        let env = build(
            &[],
            &[
                ("GH".into(), "keyring:gh".into()),
                ("DB".into(), "age:db".into()),
            ],
        )
        .expect("both resolve");
        let names: Vec<_> = env.secrets.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["GH", "DB"]);
        assert!(
            env.vars
                .iter()
                .any(|(k, v)| k == "DB" && v == "postgres://from-the-vault")
        );
        let err = build(
            &[],
            &[
                ("GH".into(), "keyring:gh".into()),
                ("X".into(), "keyring:missing".into()),
            ],
        )
        .expect_err("one missing stops the start");
        assert_eq!(err.to_string(), "X=keyring:missing: there is no such item");
        assert!(err.hint().contains("peta secret set missing"));
        assert!(matches!(
            build(&[], &[("T".into(), "a\0b".into())]),
            Err(EnvError::BadValue { .. })
        ));
        assert!(matches!(
            build(&[], &[("A=B".into(), "x".into())]),
            Err(EnvError::BadName { .. })
        ));
    }

    #[test]
    fn plain_credentials_draw_a_warning_without_the_value() {
        let env = build(
            &[],
            &[(
                "GITHUB_TOKEN".into(),
                "ghp_abcdefghijklmnopqrstuvwxyz".into(),
            )],
        )
        .expect("env");
        assert_eq!(env.warnings.len(), 1);
        assert!(!env.warnings[0].contains("ghp_abc"));
        assert_eq!(
            env.secrets.len(),
            1,
            "a credential-looking plain value is still redacted"
        );
    }

    #[test]
    fn proxy_credentials_are_found_in_any_spelling() {
        assert_eq!(
            proxy_credentials("http://alice:correct-horse@proxy:3128"),
            ["correct-horse"]
        );
        assert_eq!(
            proxy_credentials("http://bob:p%40ss-word@proxy:3128/"),
            ["p%40ss-word", "p@ss-word"]
        );
        assert_eq!(
            proxy_credentials("socks5://ghp_token_as_user@proxy"),
            ["ghp_token_as_user"]
        );
        assert!(proxy_credentials("http://proxy.corp:3128").is_empty());
        assert!(proxy_credentials("proxy.corp:3128").is_empty());
        assert!(proxy_credentials("http://alice:@proxy").is_empty());
        assert_eq!(
            proxy_credentials("user:pw-without-scheme@proxy"),
            ["pw-without-scheme"]
        );
        assert!(is_proxy("https_proxy") && is_proxy("ALL_PROXY") && !is_proxy("NO_PROXY"));
    }
}
