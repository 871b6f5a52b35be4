//! The console on the gRPC port: its embedded files at `/` over HTTP/1.1 and HTTP/2 (gRPC
//! still answered beside them), and its development sign-in, there only on loopback with the
//! development secret.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};

use crate::common::{self, TestApp};
use crate::grpc_web::{h1, send};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;

fn get(app: &TestApp, path: &str) -> Request<Full<Bytes>> {
    request(app, Method::GET, path)
}

fn request(app: &TestApp, method: Method, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, app.addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn body(response: http::Response<hyper::body::Incoming>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

async fn json(response: http::Response<hyper::body::Incoming>) -> serde_json::Value {
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "application/json"
    );
    serde_json::from_slice(&body(response).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_at_the_root_beside_grpc() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let mut client = h1(&app).await;

    let response = send(&mut client, get(&app, "/")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-cache");
    let page = body(response).await;
    let embedded = include_bytes!("../../console/dist/index.html");
    assert_eq!(&page[..], &embedded[..]);
    assert!(String::from_utf8_lossy(&page).contains("<title>csp-commerce console</title>"));

    // The same file by its name; HEAD has the headers and no body.
    let response = send(&mut client, get(&app, "/index.html")).await;
    assert_eq!(body(response).await, page);
    let response = send(&mut client, request(&app, Method::HEAD, "/")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[http::header::CONTENT_LENGTH],
        page.len().to_string()
    );
    assert!(body(response).await.is_empty());

    for missing in ["/nothing.js", "/assets/", "/../Cargo.toml", "/dev/token"] {
        let response = send(&mut client, get(&app, missing)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
        let _ = body(response).await;
    }

    // Over HTTP/2 too (prior knowledge, as gRPC connects).
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut h2, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let mut over_h2 = get(&app, &format!("http://{}/", app.addr));
    over_h2.headers_mut().remove(http::header::HOST);
    let response = h2.send_request(over_h2).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body(response).await, page);

    // And gRPC on the same port is what it was.
    let products = app
        .catalog("us", Role::SalesAgent)
        .list_products(pb::ListProductsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(products.products.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_sign_in_mints_a_token_that_the_api_accepts() {
    let app = TestApp::spawn_with(common::Backend::Sqlite, |s| {
        s.jwt_secret = csp_commerce::config::DEV_JWT_SECRET.to_owned();
    })
    .await
    .unwrap();
    let mut client = h1(&app).await;

    let response = send(&mut client, get(&app, "/dev/partners")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let partners = json(response).await;
    let keys: Vec<&str> = partners
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    for key in ["us", "de", "sk", "gcc"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }

    let response = send(
        &mut client,
        get(&app, "/dev/token?partner=sk&role=sales_agent&user=ana"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-store");
    let minted = json(response).await;
    assert_eq!(minted["role"], "sales_agent");
    assert_eq!(
        minted["partner_id"],
        TestApp::partner_id("sk").to_string().as_str()
    );
    let token = minted["token"].as_str().unwrap();
    // The API takes it: the Slovak partner's customers, no one else's.
    let customers = app
        .customers_with(TestApp::token_bearer(token))
        .list_customers(pb::ListCustomersRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    let mut listed: Vec<String> = customers.into_iter().map(|c| c.id).collect();
    let mut slovak: Vec<String> = csp_commerce::demo::seed()
        .unwrap()
        .customers
        .into_iter()
        .filter(|c| c.partner == "sk")
        .map(|c| c.id.to_string())
        .collect();
    listed.sort();
    slovak.sort();
    assert!(!slovak.is_empty());
    assert_eq!(listed, slovak);

    // A platform role takes no partner; a partner role needs one; names are checked.
    let response = send(&mut client, get(&app, "/dev/token?role=catalog_admin")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(json(response).await["partner_id"].is_null());
    for (query, says) in [
        ("partner=us&role=catalog_admin", "takes no partner"),
        ("role=sales_agent", "needs a partner"),
        ("partner=us&role=king", "role must be one of"),
        ("partner=nowhere&role=sales_agent", "no partner has the key"),
        ("partner=us&role=sales_agent&user=a%20b", "user must be"),
        ("partner=us&role=sales_agent&admin=1", "unknown parameter"),
    ] {
        let response = send(&mut client, get(&app, &format!("/dev/token?{query}"))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let error = json(response).await["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{query}: {error}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_dev_secret_there_is_no_sign_in() {
    // The test servers sign with a secret of their own, as a real deployment does.
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let mut client = h1(&app).await;
    for path in [
        "/dev/token?partner=us&role=sales_agent",
        "/dev/token?role=operator",
        "/dev/partners",
    ] {
        let response = send(&mut client, get(&app, path)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&body(response).await).contains("token"));
    }
    app.stop().await;
}
