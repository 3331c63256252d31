//! Optional TLS on the server side (`--tls-cert`, `--tls-key`): rustls with the ring provider,
//! ALPN `h2` and `http/1.1`, so that TLS clients get HTTP/2 when they offer it. Without TLS the
//! same port speaks HTTP/1.1 and h2c (prior knowledge).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::ConfigError;

/// Builds the acceptor from PEM files: a certificate chain and its private key.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ConfigError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| ConfigError::new("--tls-cert", format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ConfigError::new(
            "--tls-cert",
            format!("{}: no certificate found", cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ConfigError::new("--tls-key", format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new("--tls-cert", e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ConfigError::new("--tls-key", format!("does not match the certificate: {e}"))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
