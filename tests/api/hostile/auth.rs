//! Secrets, token claims, quotas and failed authentications: a forged development-secret token
//! finds no server, claims are checked, keys rotate without a restart, and one caller (or one
//! address hammering with bad tokens) cannot use up what the others need.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use csp_commerce::config::{DEV_JWT_SECRET, Settings};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use csp_commerce::service::ManualClock;
use csp_commerce::startup::Application;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tonic::{Code, Status};

use crate::common::{self, Backend, TEST_SECRET, TestApp};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A `global_admin` claim set of partner `us` valid for an hour, to adjust.
fn claims() -> Value {
    json!({
        "sub": "mallory",
        "partner_id": TestApp::partner_id("us").to_string(),
        "role": "global_admin",
        "iat": now(),
        "exp": now() + 3600,
    })
}

fn hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn bearer(token: &str) -> common::Bearer {
    TestApp::raw_bearer(Some(&format!("Bearer {token}")))
}

/// One catalog read with `token`.
async fn read_catalog(app: &TestApp, token: &str) -> Result<(), Status> {
    app.catalog_with(bearer(token))
        .get_product(pb::GetProductRequest {
            month: String::new(),
            product_id: "CFQ7TTC02ROY".into(),
        })
        .await
        .map(drop)
}

fn assert_refused(result: Result<(), Status>, what: &str) -> Status {
    let status = result.expect_err(what);
    assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
    assert_eq!(common::reason(&status), "UNAUTHENTICATED", "{what}");
    status
}

/// Asserts a RESOURCE_EXHAUSTED with a retry delay and a quota failure naming `quota` of
/// `subject`.
fn assert_throttled(result: Result<(), Status>, quota: &str, subject: &str) {
    let status = result.expect_err("throttled");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let details = common::details(&status);
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "RATE_LIMITED");
    assert_eq!(info.metadata["quota"], quota, "{status:?}");
    assert_eq!(info.metadata["subject"], subject, "{status:?}");
    let retry = details.retry_info().unwrap().retry_delay.unwrap();
    assert!(
        retry > Duration::ZERO && retry <= Duration::from_secs(60),
        "{retry:?}"
    );
    let violations = &details.quota_failure().unwrap().violations;
    assert_eq!(violations[0].subject, subject);
}

// --- The development secret -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_secret_is_refused_beyond_loopback() {
    for listen in ["0.0.0.0:0", "[::]:0", "10.1.2.3:0", "[::ffff:10.1.2.3]:0"] {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            listen: listen.parse().unwrap(),
            database_url: Settings::sqlite_url(&dir.path().join("db.sqlite")),
            jwt_secret: DEV_JWT_SECRET.to_owned(),
            ..Settings::default()
        };
        let clock = ManualClock::new(common::start_of_test_time());
        let error = match Application::build(settings, clock).await {
            Ok(_) => panic!("a server on {listen} started with the development secret"),
            Err(e) => e.to_string(),
        };
        assert!(
            error.contains("CSP_JWT_SECRET") && error.contains("loopback"),
            "{listen}: {error}"
        );
        assert_eq!(error.lines().count(), 1, "{error}");
        // Refused before anything is made.
        assert!(!dir.path().join("db.sqlite").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_secret_still_serves_on_loopback_and_forged_tokens_fail_elsewhere() {
    let on_loopback = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.jwt_secret = DEV_JWT_SECRET.to_owned();
    })
    .await
    .unwrap();
    let mut forever = claims();
    forever["exp"] = json!(253_402_300_799_i64); // 9999-12-31
    let forged = hs256(DEV_JWT_SECRET, &forever);
    // Even on loopback, a year-9999 token outlives the maximum lifetime.
    assert_refused(read_catalog(&on_loopback, &forged).await, "year 9999");
    on_loopback.stop().await;

    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    assert_refused(
        read_catalog(&app, &hs256(DEV_JWT_SECRET, &claims())).await,
        "forged with the development secret",
    );
    app.stop().await;
}

// --- Claims -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_and_audience_are_required_when_configured() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.jwt_issuer = Some("https://idp.example".into());
        s.jwt_audience = Some("csp-commerce".into());
    })
    .await
    .unwrap();
    // Minted here: carries both.
    let minted = app.token(Some("us"), Role::SalesAgent);
    read_catalog(&app, &minted).await.unwrap();
    let with = |iss: Option<&str>, aud: Option<Value>| {
        let mut c = claims();
        if let Some(iss) = iss {
            c["iss"] = json!(iss);
        }
        if let Some(aud) = aud {
            c["aud"] = aud;
        }
        hs256(TEST_SECRET, &c)
    };
    read_catalog(
        &app,
        &with(
            Some("https://idp.example"),
            Some(json!(["other", "csp-commerce"])),
        ),
    )
    .await
    .unwrap();
    for (what, token, word) in [
        (
            "wrong iss",
            with(Some("https://evil.example"), Some(json!("csp-commerce"))),
            "iss",
        ),
        (
            "missing iss",
            with(None, Some(json!("csp-commerce"))),
            "iss",
        ),
        (
            "wrong aud",
            with(Some("https://idp.example"), Some(json!("another-api"))),
            "aud",
        ),
        (
            "missing aud",
            with(Some("https://idp.example"), None),
            "aud",
        ),
    ] {
        let status = assert_refused(read_catalog(&app, &token).await, what);
        assert!(status.message().contains(word), "{what}: {status:?}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nbf_and_the_maximum_lifetime_are_checked() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.jwt_max_lifetime_seconds = 7200)
        .await
        .unwrap();
    let mut not_yet = claims();
    not_yet["nbf"] = json!(now() + 600);
    let status = assert_refused(
        read_catalog(&app, &hs256(TEST_SECRET, &not_yet)).await,
        "nbf",
    );
    assert!(status.message().contains("nbf"), "{status:?}");
    // Within the 30 s leeway: accepted.
    let mut skewed = claims();
    skewed["nbf"] = json!(now() + 5);
    read_catalog(&app, &hs256(TEST_SECRET, &skewed))
        .await
        .unwrap();

    let mut too_long = claims();
    too_long["exp"] = json!(now() + 3 * 3600);
    let status = assert_refused(
        read_catalog(&app, &hs256(TEST_SECRET, &too_long)).await,
        "lifetime",
    );
    assert!(status.message().contains("7200"), "{status:?}");
    let mut no_iat = claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    assert_refused(
        read_catalog(&app, &hs256(TEST_SECRET, &no_iat)).await,
        "no iat",
    );
    // A future iat cannot stretch the window.
    let mut later = claims();
    later["iat"] = json!(now() + 3600);
    later["exp"] = json!(now() + 7000);
    assert_refused(
        read_catalog(&app, &hs256(TEST_SECRET, &later)).await,
        "future iat",
    );
    // Minting says so rather than minting past the maximum.
    let asked = app.keys.mint(
        "ana",
        Some(TestApp::partner_id("us")),
        Role::SalesAgent,
        chrono::Duration::hours(3),
    );
    assert!(asked.unwrap_err().contains("at most 7200 s"));
    app.stop().await;
}

// --- RS256 from an identity provider, and a rotating JWKS -----------------------------------

/// An RSA key made with the `openssl` CLI: its private PEM and its public JWK parameters.
struct RsaKey {
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
    n: String,
}

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
    out.stdout
}

fn rsa_key(dir: &Path, name: &str) -> RsaKey {
    let file = format!("{name}.pem");
    openssl(&["genrsa", "-out", &file, "2048"], dir);
    let public_pem = openssl(&["rsa", "-in", &file, "-pubout"], dir);
    let modulus =
        String::from_utf8(openssl(&["rsa", "-in", &file, "-noout", "-modulus"], dir)).unwrap();
    let hex = modulus.trim().trim_start_matches("Modulus=");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    RsaKey {
        private_pem: std::fs::read(dir.join(&file)).unwrap(),
        public_pem,
        n: URL_SAFE_NO_PAD.encode(bytes),
    }
}

fn rs256(key: &RsaKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(&key.private_pem).unwrap(),
    )
    .unwrap()
}

fn write_jwks(path: &Path, keys: &[(&str, &RsaKey)]) {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, k)| json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": k.n, "e": "AQAB"}))
        .collect();
    // Written aside and renamed, as a deployment would: never read half-written.
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, json!({ "keys": keys }).to_string()).unwrap();
    std::fs::rename(temp, path).unwrap();
}

/// An identity provider's claims: an audience, an issuer, a `sub` of its own.
fn idp_claims(sub: &str) -> Value {
    let mut c = claims();
    c["sub"] = json!(sub);
    c["iss"] = json!("https://login.example/tenant/v2.0");
    c["aud"] = json!("api://some-client-id");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_provider_token_with_an_audience_is_accepted_when_none_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let key = rsa_key(dir.path(), "idp");
    let public = dir.path().join("idp.pub.pem");
    std::fs::write(&public, &key.public_pem).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.jwt_rs256_public_key = Some(public.clone());
    })
    .await
    .unwrap();
    read_catalog(&app, &rs256(&key, None, &idp_claims("ana@idp")))
        .await
        .unwrap();
    let other = rsa_key(dir.path(), "other");
    assert_refused(
        read_catalog(&app, &rs256(&other, None, &idp_claims("ana@idp"))).await,
        "another key",
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_keys_rotate_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (key1, key2) = (rsa_key(dir.path(), "k1"), rsa_key(dir.path(), "k2"));
    let jwks = dir.path().join("jwks.json");
    write_jwks(&jwks, &[("key-1", &key1)]);
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.jwt_jwks_file = Some(jwks.clone()))
        .await
        .unwrap();
    let old = rs256(&key1, Some("key-1"), &idp_claims("ana"));
    read_catalog(&app, &old).await.unwrap();
    read_catalog(&app, &old).await.unwrap();
    // The key id must match: key 1's token under key 2's id is refused.
    assert_refused(
        read_catalog(&app, &rs256(&key1, Some("key-2"), &idp_claims("ana"))).await,
        "unknown kid",
    );

    write_jwks(&jwks, &[("key-2", &key2)]);
    let new = rs256(&key2, Some("key-2"), &idp_claims("ana"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Err(status) = read_catalog(&app, &new).await {
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert!(Instant::now() < deadline, "key 2 not taken within 5 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_refused(read_catalog(&app, &old).await, "key 1 taken out");

    // A broken file keeps the last good keys.
    std::fs::write(&jwks, "{ not json").unwrap();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    read_catalog(&app, &rs256(&key2, Some("key-2"), &idp_claims("bob")))
        .await
        .unwrap();
    app.stop().await;
}

// --- Failed authentications per address -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_from_one_address_are_throttled_and_verified_callers_go_on() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let honest = app.token(Some("us"), Role::SalesAgent);
    read_catalog(&app, &honest).await.unwrap();
    let good = app.token(Some("de"), Role::GlobalAdmin);
    let (signed, signature) = good.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);

    let (mut refused, mut throttled) = (0, 0);
    for _ in 0..60 {
        let batch = (0..50).map(|_| read_catalog(&app, &tampered));
        for result in futures::future::join_all(batch).await {
            match result.unwrap_err().code() {
                Code::Unauthenticated => refused += 1,
                Code::ResourceExhausted => throttled += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    // 60 a minute are looked at (a batch in flight may slip a few more past the count).
    assert!((60..=110).contains(&refused), "{refused} refused");
    assert_eq!(refused + throttled, 3_000);
    assert_throttled(
        read_catalog(&app, &tampered).await,
        "failed authentications",
        "peer address",
    );
    // The honest caller's token was verified before: served, and promptly.
    let started = Instant::now();
    read_catalog(&app, &honest).await.unwrap();
    app.customers_with(bearer(&honest))
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    // A token never seen from this address waits for the window, unverified.
    assert_throttled(
        read_catalog(&app, &app.token(Some("sk"), Role::SalesAgent)).await,
        "failed authentications",
        "peer address",
    );
    app.stop().await;
}

// --- Quotas per partner and per user, per service group ------------------------------------

fn user_token(app: &TestApp, user: &str, partner: &str) -> String {
    app.keys
        .mint(
            user,
            Some(TestApp::partner_id(partner)),
            Role::GlobalAdmin,
            chrono::Duration::hours(1),
        )
        .unwrap()
}

async fn list_carts(app: &TestApp, token: &str) -> Result<(), Status> {
    app.carts_with(bearer(token))
        .list_carts(pb::ListCartsRequest {
            customer_id: TestApp::customer_id("us-fabrikam"),
            ..Default::default()
        })
        .await
        .map(drop)
}

async fn list_customers(app: &TestApp, token: &str) -> Result<(), Status> {
    app.customers_with(bearer(token))
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .map(drop)
}

async fn watch(app: &TestApp, token: &str) -> Result<(), Status> {
    app.catalog_with(bearer(token))
        .watch_catalog_changes(pb::WatchCatalogChangesRequest {
            start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
            ..Default::default()
        })
        .await
        .map(drop)
}

async fn one_user_over_its_quotas_throttles_no_one_else(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.catalog_user_requests_per_minute = 3;
        s.catalog_partner_requests_per_minute = 1_000;
        s.customer_user_requests_per_minute = 2;
        s.order_user_requests_per_minute = 2;
        s.partner_order_requests_per_minute = 100;
        s.admin_user_requests_per_minute = 1;
    })
    .await
    else {
        return;
    };
    let (alice, bob) = (
        user_token(&app, "alice", "us"),
        user_token(&app, "bob", "us"),
    );
    for _ in 0..3 {
        read_catalog(&app, &alice).await.unwrap();
    }
    assert_throttled(read_catalog(&app, &alice).await, "catalog requests", "user");
    // Opening a change stream counts as a catalog request.
    assert_throttled(watch(&app, &alice).await, "catalog requests", "user");
    // Another user of the same partner, and alice on other services, go on.
    read_catalog(&app, &bob).await.unwrap();
    watch(&app, &bob).await.unwrap();
    list_carts(&app, &alice).await.unwrap();
    list_customers(&app, &alice).await.unwrap();

    list_carts(&app, &alice).await.unwrap();
    assert_throttled(
        list_carts(&app, &alice).await,
        "cart and order requests",
        "user",
    );
    list_carts(&app, &bob).await.unwrap();

    list_customers(&app, &alice).await.unwrap();
    assert_throttled(
        list_customers(&app, &alice).await,
        "customer requests",
        "user",
    );
    list_customers(&app, &bob).await.unwrap();

    // catalog_admin has no partner: counted per user.
    let admin = |user: &str| {
        let token = app
            .keys
            .mint(user, None, Role::CatalogAdmin, chrono::Duration::hours(1))
            .unwrap();
        let mut client = app.admin_with(bearer(&token));
        async move {
            client
                .list_month_changes(pb::ListMonthChangesRequest {
                    month: "2026-11".into(),
                    ..Default::default()
                })
                .await
                .map(drop)
        }
    };
    let first = admin("ops").await;
    assert_ne!(first.map_err(|s| s.code()), Err(Code::ResourceExhausted));
    assert_throttled(admin("ops").await, "admin requests", "user");
    assert_ne!(
        admin("ops-2").await.map_err(|s| s.code()),
        Err(Code::ResourceExhausted)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_over_its_quotas_throttles_no_one_else_sqlite() {
    one_user_over_its_quotas_throttles_no_one_else(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_over_its_quotas_throttles_no_one_else_postgres() {
    one_user_over_its_quotas_throttles_no_one_else(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_quota_is_shared_by_its_users_and_divided_among_replicas() {
    // 15 a minute over three replicas: 5 here.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.catalog_partner_requests_per_minute = 15;
        s.catalog_user_requests_per_minute = 0;
        s.quota_replicas = 3;
    })
    .await
    .unwrap();
    for user in ["a", "b", "c", "d", "e"] {
        read_catalog(&app, &user_token(&app, user, "us"))
            .await
            .unwrap();
    }
    let status = read_catalog(&app, &user_token(&app, "f", "us")).await;
    let limit = common::details(status.as_ref().unwrap_err())
        .error_info()
        .unwrap()
        .metadata["limit_per_minute"]
        .clone();
    assert_eq!(limit, "5");
    assert_throttled(status, "catalog requests", "partner");
    // Another partner has its own; the same partner's ordering quota is untouched.
    read_catalog(&app, &user_token(&app, "a", "de"))
        .await
        .unwrap();
    list_carts(&app, &user_token(&app, "a", "us"))
        .await
        .unwrap();
    app.stop().await;
}
