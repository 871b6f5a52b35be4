//! gRPC-Web at the edge: CORS for the configured origins (and the server's own), a stream over
//! HTTP/1.1 against the idle timeout, and the native layers (metrics, quotas) behind it.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;

use super::{Answer, Frames, LIST_PRODUCTS, WATCH, call, h1, list_products, send};
use crate::common::{self, TestApp};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::watch_catalog_changes_response::Event;

const ALLOWED_ORIGIN: &str = "https://console.example.com";

/// A server that lets `ALLOWED_ORIGIN` call it (SQLite: CORS never reaches the database).
async fn with_allowed_origin() -> TestApp {
    TestApp::spawn_with(common::Backend::Sqlite, |s| {
        s.grpc_web_origins = vec![ALLOWED_ORIGIN.to_owned()];
    })
    .await
    .unwrap()
}

fn preflight(app: &TestApp, origin: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(LIST_PRODUCTS)
        .header(http::header::HOST, app.addr.to_string())
        .header(http::header::ORIGIN, origin)
        .header(http::header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            http::header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type,x-grpc-web,x-user-agent,grpc-timeout",
        )
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_an_allowed_origin_is_granted_and_its_call_answered() {
    let app = with_allowed_origin().await;
    let mut client = h1(&app).await;
    let response = send(&mut client, preflight(&app, ALLOWED_ORIGIN)).await;
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(
        headers[http::header::ACCESS_CONTROL_ALLOW_ORIGIN],
        ALLOWED_ORIGIN
    );
    let methods = headers[http::header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = headers[http::header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "authorization",
        "content-type",
        "x-grpc-web",
        "grpc-timeout",
    ] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }
    let _ = response.into_body().collect().await;

    // The call itself, from that origin: answered, and readable by the page.
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut request = call(&app, LIST_PRODUCTS, Some(&token), &list_products());
    request.headers_mut().insert(
        http::header::ORIGIN,
        HeaderValue::from_static(ALLOWED_ORIGIN),
    );
    let response = send(&mut client, request).await;
    assert_eq!(
        response.headers()[http::header::ACCESS_CONTROL_ALLOW_ORIGIN],
        ALLOWED_ORIGIN
    );
    let exposed = response.headers()[http::header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("grpc-status"), "{exposed}");
    let answer = Answer::read(response).await;
    assert_eq!(answer.status().code(), tonic::Code::Ok);
    assert_eq!(answer.messages.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_is_refused_and_the_servers_own_needs_no_listing() {
    let app = with_allowed_origin().await;
    let mut client = h1(&app).await;
    let response = send(&mut client, preflight(&app, "https://evil.example.net")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        !response
            .headers()
            .contains_key(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    let _ = response.into_body().collect().await;

    // Its call is refused before anything runs, whatever its token.
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut request = call(&app, LIST_PRODUCTS, Some(&token), &list_products());
    request.headers_mut().insert(
        http::header::ORIGIN,
        HeaderValue::from_static("https://evil.example.net"),
    );
    let response = send(&mut client, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let _ = response.into_body().collect().await;

    // The console's own page (the server's origin) calls without being listed.
    let own = format!("http://{}", app.addr);
    let mut request = call(&app, LIST_PRODUCTS, Some(&token), &list_products());
    request
        .headers_mut()
        .insert(http::header::ORIGIN, HeaderValue::from_str(&own).unwrap());
    let answer = Answer::read(send(&mut client, request).await).await;
    assert_eq!(answer.http, StatusCode::OK);
    assert_eq!(answer.status().code(), tonic::Code::Ok);
    app.stop().await;
}

/// Over HTTP/1.1 the subscriber sends nothing while it reads (no HTTP/2 pings to answer):
/// its stream keeps the connection from the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_over_http1_outlives_the_idle_timeout() {
    let app = TestApp::spawn_with(common::Backend::Sqlite, |s| {
        s.idle_timeout_ms = 600;
        s.http2_keepalive_interval_ms = 300;
        s.http2_keepalive_timeout_ms = 300;
        s.watch_progress_interval_ms = 200;
    })
    .await
    .unwrap();
    // An idle HTTP/1.1 connection is closed at the timeout...
    let token = app.token(Some("us"), Role::HelpdeskAgent);
    let mut idle = h1(&app).await;
    let answer = Answer::read(
        send(
            &mut idle,
            call(&app, LIST_PRODUCTS, Some(&token), &list_products()),
        )
        .await,
    )
    .await;
    assert_eq!(answer.status().code(), tonic::Code::Ok);
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert!(
        idle.ready().await.is_err(),
        "the idle connection was closed"
    );

    // ...one carrying a stream is not.
    let mut client = h1(&app).await;
    let watch = pb::WatchCatalogChangesRequest {
        start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
        ..Default::default()
    };
    let response = send(&mut client, call(&app, WATCH, Some(&token), &watch)).await;
    let mut stream = Frames::new(response.into_body());
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(3_000) {
        let message = stream.message::<pb::WatchCatalogChangesResponse>().await;
        assert!(
            matches!(message.event, Some(Event::Progress(_))),
            "{message:?}"
        );
    }
    app.stop().await;
}

/// The layers behind gRPC-Web are the native ones: its calls are counted by the metrics layer
/// and held to the same quotas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_calls_are_counted_and_held_to_the_quotas() {
    let app = TestApp::spawn_with(common::Backend::Sqlite, |s| {
        s.metrics_listen = Some("127.0.0.1:0".into());
        s.catalog_user_requests_per_minute = 2;
    })
    .await
    .unwrap();
    let mut client = h1(&app).await;
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut codes = Vec::new();
    for _ in 0..3 {
        let answer = Answer::read(
            send(
                &mut client,
                call(&app, LIST_PRODUCTS, Some(&token), &list_products()),
            )
            .await,
        )
        .await;
        codes.push(answer.status().code());
    }
    assert_eq!(
        codes,
        [
            tonic::Code::Ok,
            tonic::Code::Ok,
            tonic::Code::ResourceExhausted
        ]
    );

    let mut scrape = http1::handshake(hyper_util::rt::TokioIo::new(
        tokio::net::TcpStream::connect(app.metrics_addr.unwrap())
            .await
            .unwrap(),
    ))
    .await
    .unwrap();
    tokio::spawn(scrape.1);
    let request = Request::get("/metrics")
        .header(http::header::HOST, "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let text = send(&mut scrape.0, request)
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&text);
    let counted = |code: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("rpc_server_requests_total{"))
            .filter(|l| l.contains("rpc_method=\"ListProducts\""))
            .filter(|l| l.contains(&format!("rpc_grpc_status_code=\"{code}\"")))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(counted("0"), 2.0, "{text}");
    assert_eq!(counted("8"), 1.0, "{text}");
    app.stop().await;
}
