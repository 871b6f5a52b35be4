//! What is checked before anything is bound: the development secret stays on loopback, and
//! the TLS files read and parse.

use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::config::Settings;

/// Refuses the public development secret unless the server listens on loopback only.
pub(super) fn refuse_public_dev_secret(settings: &Settings) -> anyhow::Result<()> {
    let loopback = crate::config::is_loopback(settings.listen.ip());
    if settings.jwt_secret == crate::config::DEV_JWT_SECRET && !loopback {
        anyhow::bail!(
            "refusing to listen on {} with the public development JWT secret: set CSP_JWT_SECRET (or jwt_secret in the config file) to a secret of your own, or listen on loopback only (127.0.0.1 or ::1)",
            settings.listen
        );
    }
    Ok(())
}

/// The TLS settings read and checked at start: a missing or unreadable file stops the start
/// with its path, never a plaintext fallback.
pub(super) fn tls_config(settings: &Settings) -> anyhow::Result<Option<ServerTlsConfig>> {
    let read = |what: &str, path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read the TLS {what} {}: {e}", path.display()))
    };
    match (&settings.tls_cert_file, &settings.tls_key_file) {
        (None, None) if settings.tls_client_ca_file.is_some() => {
            anyhow::bail!("tls_client_ca_file needs tls_cert_file and tls_key_file")
        }
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
                read("certificate", cert)?,
                read("key", key)?,
            ));
            if let Some(ca) = &settings.tls_client_ca_file {
                // Client certificates are then required and verified against it (mTLS).
                tls = tls.client_ca_root(Certificate::from_pem(read("client CA", ca)?));
            }
            // Parsed now, so a bad certificate or key stops the start before anything is bound.
            Server::builder()
                .tls_config(tls.clone())
                .map_err(|e| anyhow::anyhow!("the TLS certificate or key is not usable: {e}"))?;
            tracing::info!(
                mtls = settings.tls_client_ca_file.is_some(),
                "serving TLS only"
            );
            Ok(Some(tls))
        }
        _ => anyhow::bail!("tls_cert_file and tls_key_file go together: set both or neither"),
    }
}
