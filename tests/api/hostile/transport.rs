//! Transport attacks: connections that send nothing, unfinished big messages to health,
//! malformed protobuf, calls past the deadline, a busy pool, no file descriptors left. (More
//! connections than the cap is in `tests/own_process.rs`: it measures this process's CPU.)

use std::time::{Duration, Instant};

use bytes::Bytes;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use http_body_util::BodyExt;
use tokio::io::AsyncReadExt;
use tonic::Code;

use super::raw_h2;
use crate::common::{self, Backend, TestApp, honest_read, rid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_nothing_are_closed_after_the_handshake_timeout() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.handshake_timeout_ms = 300)
        .await
        .unwrap();
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }
    honest_read(&app).await;
    // Each is closed by the server: reading ends (or fails) instead of waiting for ever.
    // (The server's HTTP/2 SETTINGS come first.)
    for mut conn in silent {
        let mut buf = [0u8; 256];
        tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(n) = conn.read(&mut buf).await
                && n > 0
            {}
        })
        .await
        .expect("a connection that sent nothing was kept open");
    }
    // A connection that sent the preface in time is served past the timeout.
    tokio::time::sleep(Duration::from_millis(500)).await;
    honest_read(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_goes_quiet_after_its_preface_is_closed_while_live_ones_stay() {
    use tokio::io::AsyncWriteExt;
    // Live connections answer the keepalive pings well within the idle timeout; a quiet one
    // answers nothing (closed by the idle timeout or the keepalive timeout, whichever first).
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http2_keepalive_interval_ms = 100;
        s.http2_keepalive_timeout_ms = 200;
        s.idle_timeout_ms = 500;
    })
    .await
    .unwrap();
    let mut quiet = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    quiet
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    honest_read(&app).await;
    let mut buf = [0u8; 256];
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(n) = quiet.read(&mut buf).await
            && n > 0
        {}
    })
    .await
    .expect("a quiet connection was kept open past the idle timeout");
    // The honest connection, idle but answering pings, outlives the idle timeout.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    honest_read(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_4_mb_health_checks_are_refused_by_the_decode_limit() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut held = Vec::new();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let mut send = raw_h2::connect(app.addr, 1 << 20).await;
        for _ in 0..50 {
            // A prefix announcing 4 MB, 16 KiB of it, and the rest never sent.
            let (tx, rx) = tokio::sync::mpsc::channel::<
                Result<http_body::Frame<Bytes>, std::convert::Infallible>,
            >(4);
            let mut start = bytes::BytesMut::new();
            start.extend_from_slice(&[0, 0, 0x40, 0, 0]);
            start.extend_from_slice(&[0x0a; 16 * 1024]);
            tx.send(Ok(http_body::Frame::data(start.freeze())))
                .await
                .unwrap();
            held.push(tx);
            let body =
                http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx))
                    .boxed();
            send.ready().await.unwrap();
            let request = raw_h2::request(app.addr, "/grpc.health.v1.Health/Check", None, body);
            answers.push(send.send_request(request));
        }
    }
    honest_read(&app).await;
    for answer in answers {
        let response = tokio::time::timeout(Duration::from_secs(5), answer)
            .await
            .expect("an unfinished 4 MB message was not refused")
            .unwrap();
        let (code, message) = raw_h2::status(response).await;
        assert_eq!(Code::from(code), Code::OutOfRange, "{message}");
        assert!(message.contains("limit"), "{message}");
    }
    honest_read(&app).await;
    drop(held);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_protobuf_is_invalid_argument_naming_no_internal_type() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut send = raw_h2::connect(app.addr, 1 << 20).await;
    // A field 1 (length-delimited) longer than the message, and a wire type 7 (invalid).
    for garbage in [&[0x0a, 0xff, 0x01, 0x00][..], &[0x0f, 0x01][..]] {
        for path in [
            "/csp.commerce.v1.CatalogService/ListProducts",
            "/csp.commerce.v1.CustomerService/CreateCustomer",
            "/csp.commerce.v1.CatalogService/WatchCatalogChanges",
        ] {
            send.ready().await.unwrap();
            let response = send
                .send_request(raw_h2::request(
                    app.addr,
                    path,
                    Some(&token),
                    raw_h2::full(raw_h2::framed(garbage)),
                ))
                .await
                .unwrap();
            let (code, message) = raw_h2::status(response).await;
            assert_eq!(Code::from(code), Code::InvalidArgument, "{path}: {message}");
            for internal in ["prost", "DecodeError", "::", "Request"] {
                assert!(!message.contains(internal), "{path}: {message}");
            }
        }
    }
    honest_read(&app).await;
    app.stop().await;
}

/// Holds `table` locked on its own PostgreSQL connection until the returned sender is
/// dropped or sent to.
async fn lock_table(url: &str, table: &str) -> tokio::sync::oneshot::Sender<()> {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let db = Database::connect(url).await.unwrap();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let sql = format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE");
    tokio::spawn(async move {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared(&sql).await.unwrap();
        let _ = locked_tx.send(());
        let _ = release_rx.await;
        let _ = txn.rollback().await;
    });
    locked_rx.await.unwrap();
    release_tx
}

fn new_customer() -> pb::CreateCustomerRequest {
    pb::CreateCustomerRequest {
        request_id: rid(),
        company_name: "Contoso Pharmaceuticals".into(),
        country: "FR".into(),
        email: "it@contoso-pharma.example.com".into(),
        domain: "contosopharma.onmicrosoft.com".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unary_call_past_the_deadline_is_deadline_exceeded_and_streams_are_not_cut() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| s.request_timeout_ms = 500).await
    else {
        return;
    };
    let mut stream = app
        .catalog("us", Role::SalesAgent)
        .watch_catalog_changes(pb::WatchCatalogChangesRequest {
            start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let release = lock_table(&app.database_url, "customers").await;
    let status = tokio::time::timeout(
        Duration::from_secs(5),
        app.customers("de", Role::AdminAgent)
            .create_customer(new_customer()),
    )
    .await
    .expect("the deadline did not end the call")
    .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(common::reason(&status), "DEADLINE_EXCEEDED");
    drop(release);
    honest_read(&app).await;
    // The stream outlived the deadline: it still answers (its first progress message).
    tokio::time::sleep(Duration::from_millis(700)).await;
    let message = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("the stream stalled")
        .expect("the stream failed after the deadline");
    assert!(message.is_some());
    drop(stream);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_time_out_is_unavailable_with_retry_info() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| {
        s.max_db_connections = 1;
        s.db_acquire_timeout_ms = 300;
    })
    .await
    else {
        return;
    };
    let release = lock_table(&app.database_url, "customers").await;
    // Holds the pool's one connection, waiting on the lock.
    let mut first = app.customers("de", Role::AdminAgent);
    let held = tokio::spawn(async move { first.create_customer(new_customer()).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = tokio::time::timeout(
        Duration::from_secs(5),
        app.customers("us", Role::AdminAgent)
            .create_customer(new_customer()),
    )
    .await
    .expect("no answer within 5 s")
    .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let details = common::details(&status);
    assert_eq!(details.error_info().unwrap().reason, "DATABASE_BUSY");
    assert!(details.retry_info().is_some(), "no RetryInfo: {status:?}");
    for internal in ["pool", "sqlx", "DbErr", "::"] {
        assert!(!status.message().contains(internal), "{}", status.message());
    }
    drop(release);
    held.await.unwrap().unwrap();
    app.stop().await;
}

/// The server binary with few file descriptors (its own process: the limit is per process).
/// A flood of connections runs it out of them; accepting then fails (EMFILE) and must back
/// off instead of spinning, while a caller already connected is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_accept_loop_backs_off_and_serves_the_connected() {
    let dir = tempfile::tempdir().unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], common::free_port()).into();
    let mut server = std::process::Command::new("sh")
        .args(["-c", "ulimit -n 128 && exec \"$0\" serve"])
        .arg(env!("CARGO_BIN_EXE_csp-commerce"))
        .env("CSP_LISTEN", addr.to_string())
        .env(
            "CSP_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("fd.sqlite").display()),
        )
        .env("CSP_JWT_SECRET", common::TEST_SECRET)
        .env("CSP_LOG", "warn")
        .env_remove("CSP_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let channel = common::connect_when_up(&format!("http://{addr}")).await;
    let mut client = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel,
        common::us_sales_agent("tester"),
    );
    let mut read = async || {
        tokio::time::timeout(
            Duration::from_secs(2),
            client.list_products(pb::ListProductsRequest::default()),
        )
        .await
        .expect("the connected caller was not served within 2 s")
        .unwrap();
    };
    read().await;
    // More connections than it has descriptors for.
    let mut flood = Vec::new();
    for _ in 0..300 {
        if let Ok(Ok(conn)) = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            flood.push(conn);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cpu = common::cpu_time(&server.id().to_string());
    let wall = Instant::now();
    for _ in 0..5 {
        read().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let used = common::cpu_time(&server.id().to_string()) - cpu;
    assert!(
        used < wall.elapsed() / 2,
        "the accept loop spun out of descriptors: {used:?} of CPU in {:?}",
        wall.elapsed()
    );
    drop(flood);
    server.kill().unwrap();
    server.wait().unwrap();
}
