//! Which certificate authorities the client trusts.
//!
//! The default is Mozilla's roots (compiled in, so a bare container still works) plus the
//! system store where one exists (what a corporate or private CA is installed into; read once
//! per process, `SSL_CERT_FILE` / `SSL_CERT_DIR` honoured as OpenSSL, curl and Python do). An
//! extra PEM bundle adds to them. The configuration is built here rather than by reqwest so the
//! crypto provider is `ring` (no aws-lc, no OpenSSL) and nothing panics looking for a default.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::error::Error;

/// `QOVERY_CA_BUNDLE`: a PEM file of extra CAs, read when no bundle is set on the builder.
pub const ENV_CA_BUNDLE: &str = "QOVERY_CA_BUNDLE";

/// Mozilla's roots plus the system store, parsed once per process (a few ms for ~150 CAs).
fn default_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            // A missing or partly unreadable system store is not an error: the Mozilla roots
            // still apply. What could not be read is said once, at debug level.
            let system = rustls_native_certs::load_native_certs();
            for e in &system.errors {
                log::debug!(target: "qovery_redeploy", "system CA store: {e}");
            }
            let (added, ignored) = roots.add_parsable_certificates(system.certs);
            log::debug!(
                target: "qovery_redeploy",
                "trusting {} Mozilla roots and {added} system CAs ({ignored} unusable)",
                webpki_roots::TLS_SERVER_ROOTS.len()
            );
            Arc::new(roots)
        })
        .clone()
}

/// Reads a PEM bundle: every certificate in it must parse, and there must be one.
fn read_bundle(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let shown = path.display();
    let data = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("cannot read the {what} {shown}: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("the {what} {shown} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "the {what} {shown} holds no PEM certificate"
        )));
    }
    Ok(certs)
}

/// The rustls configuration for one client: default roots plus `extra` (a PEM file).
pub(crate) fn client_config(extra: Option<&Path>) -> Result<ClientConfig, Error> {
    // `SSL_CERT_FILE` replaces the system store (rustls-native-certs reads it); a user who set
    // it to a file that is missing or empty made a mistake worth saying, as curl does.
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        read_bundle(Path::new(&file), "SSL_CERT_FILE bundle")?;
    }
    let mut roots = default_roots();
    if let Some(path) = extra {
        let certs = read_bundle(path, "CA bundle")?;
        let store = Arc::make_mut(&mut roots);
        for cert in certs {
            store.add(cert).map_err(|e| {
                Error::invalid(format!(
                    "the CA bundle {} holds an unusable certificate: {e}",
                    path.display()
                ))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
