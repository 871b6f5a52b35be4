//! TLS and mTLS: certificates made at test time (rcgen), the server's own settings, clients
//! that trust the CA or not, with a client certificate or not.

use std::path::Path;
use std::time::Duration;

use crate::common::{self, TestApp};
use csp_commerce::config::Settings;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use csp_commerce::startup::Application;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A certificate authority that signs server and client certificates.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate for `names` and its key, both PEM.
    fn sign(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A server on a fresh SQLite database, serving TLS with a certificate of `ca` for
/// `localhost` (and mTLS when `client_ca` is given).
struct TlsServer {
    addr: std::net::SocketAddr,
    keys: std::sync::Arc<csp_commerce::auth::TokenKeys>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    async fn start(ca: &Ca, client_ca: Option<&Ca>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (cert, key) = ca.sign(&["localhost"]);
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: Settings::sqlite_url(&dir.path().join("test.sqlite")),
            jwt_secret: common::TEST_SECRET.to_owned(),
            tls_cert_file: Some(write("server.pem", &cert)),
            tls_key_file: Some(write("server.key", &key)),
            tls_client_ca_file: client_ca.map(|c| write("clients-ca.pem", &c.pem)),
            ..Settings::default()
        };
        let app = Application::build(
            settings,
            csp_commerce::service::ManualClock::new(common::start_of_test_time()),
        )
        .await
        .unwrap();
        let (addr, keys) = (app.local_addr(), app.token_keys());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            keys,
            stop: Some(stop),
            server,
            _dir: dir,
        }
    }

    /// Reads a product through a channel to this server at `scheme`, with `tls` if any.
    async fn call(&self, scheme: &str, tls: Option<ClientTlsConfig>) -> Result<(), String> {
        let mut endpoint =
            Channel::from_shared(format!("{scheme}://localhost:{}", self.addr.port()))
                .unwrap()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(5));
        if let Some(tls) = tls {
            endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        let token = self
            .keys
            .mint(
                "tester",
                Some(TestApp::partner_id("us")),
                Role::SalesAgent,
                chrono::Duration::hours(1),
            )
            .unwrap();
        let mut request = tonic::Request::new(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC02ROY".into(),
        });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        pb::catalog_service_client::CatalogServiceClient::new(channel)
            .get_product(request)
            .await
            .map(|_| ())
            .map_err(|e| format!("call: {e:?}"))
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.await.unwrap().unwrap();
    }
}

fn trusting(ca: &Ca) -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.pem))
        .domain_name("localhost")
}

fn with_identity(tls: ClientTlsConfig, (cert, key): (String, String)) -> ClientTlsConfig {
    tls.identity(Identity::from_pem(cert, key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_a_client_that_trusts_the_ca_and_no_plaintext_client() {
    let ca = Ca::new("csp test CA");
    let server = TlsServer::start(&ca, None).await;
    server.call("https", Some(trusting(&ca))).await.unwrap();
    let plaintext = server.call("http", None).await;
    assert!(plaintext.is_err(), "a plaintext client was served over TLS");
    let stranger = Ca::new("another CA");
    let untrusted = server.call("https", Some(trusting(&stranger))).await;
    assert!(
        untrusted.is_err(),
        "a client trusting another CA accepted the server"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_serves_only_clients_with_a_certificate_from_the_client_ca() {
    let ca = Ca::new("csp test CA");
    let clients = Ca::new("csp clients CA");
    let server = TlsServer::start(&ca, Some(&clients)).await;
    let without = server.call("https", Some(trusting(&ca))).await;
    assert!(
        without.is_err(),
        "a client without a certificate was served"
    );
    let other = Ca::new("another CA");
    let foreign = server
        .call(
            "https",
            Some(with_identity(trusting(&ca), other.sign(&["pipeline"]))),
        )
        .await;
    assert!(
        foreign.is_err(),
        "a client certificate from another CA was accepted"
    );
    server
        .call(
            "https",
            Some(with_identity(trusting(&ca), clients.sign(&["pipeline"]))),
        )
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_server_with_half_or_unusable_tls_settings_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("server.pem");
    std::fs::write(&cert, Ca::new("x").sign(&["localhost"]).0).unwrap();
    for (tls_cert_file, tls_key_file, tls_client_ca_file) in [
        (Some(cert.clone()), None, None),
        (None, None, Some(cert.clone())),
        (
            Some(cert.clone()),
            Some(Path::new("/nonexistent/server.key").to_path_buf()),
            None,
        ),
        // A key file that holds no key.
        (Some(cert.clone()), Some(cert.clone()), None),
    ] {
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: Settings::sqlite_url(&dir.path().join("test.sqlite")),
            tls_cert_file,
            tls_key_file,
            tls_client_ca_file,
            ..Settings::default()
        };
        let built = Application::build(
            settings,
            csp_commerce::service::ManualClock::new(common::start_of_test_time()),
        )
        .await;
        let Err(refused) = built else {
            panic!("started with half or unusable TLS settings");
        };
        assert!(
            refused.to_string().to_lowercase().contains("tls"),
            "{refused:#}"
        );
    }
}
