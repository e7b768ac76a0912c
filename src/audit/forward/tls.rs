//! Trust anchors for https:// and tls:// endpoints: the Mozilla roots (webpki-roots), or
//! only the certificates of `ca_file` when one is given (a team's own CA).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::SendError;

/// The certificates of a PEM file; at least one.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, SendError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| SendError::new(format!("ca_file {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(SendError::new(format!(
            "ca_file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// A rustls client configuration for the syslog TLS transport.
pub(crate) fn client_config(
    ca_file: Option<&Path>,
) -> Result<Arc<rustls::ClientConfig>, SendError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in read_ca_file(path)? {
                roots
                    .add(cert)
                    .map_err(|e| SendError::new(format!("ca_file {}: {e}", path.display())))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SendError::new(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The ureq TLS configuration for the OTLP/HTTP transport.
pub(crate) fn http_config(ca_file: Option<&Path>) -> Result<ureq::tls::TlsConfig, SendError> {
    let mut builder = ureq::tls::TlsConfig::builder();
    if let Some(path) = ca_file {
        let certs: Vec<ureq::tls::Certificate<'static>> = read_ca_file(path)?
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .collect();
        builder = builder.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(builder.build())
}
