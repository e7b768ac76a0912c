//! What a server's env entry says: a plain value or a reference to a secret.
//!
//! | written          | meaning                                                     |
//! |------------------|-------------------------------------------------------------|
//! | `env:NAME`       | peta's own environment variable NAME (explicit pass-through) |
//! | `keyring:NAME`   | the OS keyring, service `peta`, account NAME                 |
//! | `age:NAME`       | an entry of the age-encrypted vault                          |
//! | anything else    | the value itself                                             |

/// A parsed env entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Plain(String),
    Env(String),
    Keyring(String),
    Age(String),
}

impl Source {
    pub(crate) fn parse(text: &str) -> Source {
        let reference = |prefix: &str| {
            text.strip_prefix(prefix)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
        };
        if let Some(name) = reference("env:") {
            Source::Env(name)
        } else if let Some(name) = reference("keyring:") {
            Source::Keyring(name)
        } else if let Some(name) = reference("age:") {
            Source::Age(name)
        } else {
            Source::Plain(text.to_owned())
        }
    }

    /// The reference as written, for messages (never the value).
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Plain(_) => "a plain value".into(),
            Source::Env(n) => format!("env:{n}"),
            Source::Keyring(n) => format!("keyring:{n}"),
            Source::Age(n) => format!("age:{n}"),
        }
    }
}

/// Whether a plain value for `key` looks like a credential that should not sit in a config
/// file: by the variable's name, or by the shape of well-known token formats.
pub(crate) fn looks_like_credential(key: &str, value: &str) -> bool {
    let key = key.to_ascii_uppercase();
    let named = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| key.contains(w))
        // "AUTH" only as a word of the name: GIT_AUTHOR_NAME is a person, not a login.
        || key
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| ["AUTH", "OAUTH", "AUTHORIZATION"].contains(&word));
    let shaped = [
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "glpat-",
        "sk-",
        "sk_live_",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "AIza",
    ]
    .iter()
    .any(|p| value.starts_with(p) && value.len() >= 16);
    (named && value.len() >= 8) || shaped || url_with_password(value)
}

/// `scheme://user:password@host…`, as in database connection strings.
fn url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .is_some_and(|(_, password)| !password.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(Source::parse("env:HOME"), Source::Env("HOME".into()));
        assert_eq!(
            Source::parse("keyring:github"),
            Source::Keyring("github".into())
        );
        assert_eq!(Source::parse("age:db"), Source::Age("db".into()));
        assert_eq!(Source::parse("env:"), Source::Plain("env:".into()));
        assert_eq!(Source::parse("plain"), Source::Plain("plain".into()));
    }

    #[test]
    fn spots_credentials() {
        assert!(looks_like_credential("GITHUB_TOKEN", "whatever-long"));
        assert!(looks_like_credential("X", "ghp_0123456789abcdefghij"));
        assert!(!looks_like_credential("LOG_LEVEL", "debug"));
        assert!(!looks_like_credential("TOKEN_TTL", "60"));
        assert!(looks_like_credential(
            "DATABASE_URI",
            "postgresql://ana:s3cret@localhost:5432/shop"
        ));
        assert!(!looks_like_credential(
            "DB",
            "postgresql://ana@localhost/shop"
        ));
        assert!(!looks_like_credential("SITE", "https://example.com/a:b@c"));
        assert!(looks_like_credential("PROXY_AUTH", "user:long-password"));
        assert!(looks_like_credential("GOOGLE_OAUTH", "whatever-long"));
        assert!(looks_like_credential(
            "HTTP_AUTHORIZATION",
            "Bearer abcdefgh"
        ));
        // Words that merely contain "AUTH" name no credential.
        for key in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_AUTHOR_DATE",
            "AUTHORS_FILE",
        ] {
            assert!(
                !looks_like_credential(key, "Ada Lovelace <ada@example.com>"),
                "{key}"
            );
        }
    }
}
