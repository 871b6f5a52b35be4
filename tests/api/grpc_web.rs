//! gRPC-Web on the gRPC port, as a browser speaks it but without one: HTTP/1.1 requests of
//! `application/grpc-web+proto` frames from hyper's client, the answers' frames read back (the
//! messages, then the trailers frame with the status and its google.rpc details). Native
//! gRPC on the same port is unchanged (every other module's clients are native).

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use prost::Message;

use crate::common::{self, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::watch_catalog_changes_response::Event;

mod edge;

const CONTENT_TYPE: &str = "application/grpc-web+proto";

/// An HTTP/1.1 connection to `app` (no HTTP/2 anywhere on it).
pub async fn h1(app: &TestApp) -> http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (send, connection) = http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    send
}

/// `request` on `client` once the connection is ready for it (after the answer before).
pub async fn send(
    client: &mut http1::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> http::Response<hyper::body::Incoming> {
    client.ready().await.unwrap();
    client.send_request(request).await.unwrap()
}

/// A gRPC-Web call of `method` (`/package.Service/Method`) with one message.
pub fn call(
    app: &TestApp,
    method: &str,
    token: Option<&str>,
    message: &impl Message,
) -> Request<Full<Bytes>> {
    let body = message.encode_to_vec();
    let mut framed = BytesMut::with_capacity(5 + body.len());
    framed.put_u8(0);
    framed.put_u32(u32::try_from(body.len()).unwrap());
    framed.put_slice(&body);
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(method)
        .header(http::header::HOST, app.addr.to_string())
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .header("x-grpc-web", "1")
        .header("x-user-agent", "csp-commerce-tests");
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Full::new(framed.freeze())).unwrap()
}

/// A gRPC-Web answer read to its end: its messages and its trailers frame.
pub struct Answer {
    http: StatusCode,
    headers: HeaderMap,
    messages: Vec<Bytes>,
    trailers: HeaderMap,
}

impl Answer {
    pub async fn read(response: http::Response<hyper::body::Incoming>) -> Self {
        let (parts, body) = response.into_parts();
        let mut bytes = body.collect().await.unwrap().to_bytes();
        let mut messages = Vec::new();
        let mut trailers = HeaderMap::new();
        while let Some(frame) = next_frame(&mut bytes) {
            match frame {
                Frame::Message(m) => messages.push(m),
                Frame::Trailers(t) => trailers = t,
            }
        }
        assert!(bytes.is_empty(), "bytes after the last whole frame");
        Self {
            http: parts.status,
            headers: parts.headers,
            messages,
            trailers,
        }
    }

    /// The call's status, from its trailers frame (never from the HTTP headers).
    pub fn status(&self) -> tonic::Status {
        assert!(
            !self.headers.contains_key("grpc-status"),
            "the status is in the trailers frame, not the headers: {:?}",
            self.headers
        );
        tonic::Status::from_header_map(&self.trailers).expect("a grpc-status in the trailers frame")
    }
}

enum Frame {
    Message(Bytes),
    Trailers(HeaderMap),
}

/// The first whole frame of `bytes`, taken off it.
fn next_frame(bytes: &mut Bytes) -> Option<Frame> {
    if bytes.len() < 5 {
        return None;
    }
    let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
    if bytes.len() < 5 + len {
        return None;
    }
    let flag = bytes.get_u8();
    bytes.advance(4);
    let payload = bytes.split_to(len);
    if flag & 0x80 == 0 {
        assert_eq!(flag, 0, "an uncompressed message");
        return Some(Frame::Message(payload));
    }
    let mut trailers = HeaderMap::new();
    for line in std::str::from_utf8(&payload).unwrap().split("\r\n") {
        if let Some((name, value)) = line.split_once(':') {
            trailers.append(
                http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
    }
    Some(Frame::Trailers(trailers))
}

pub fn list_products() -> pb::ListProductsRequest {
    pb::ListProductsRequest {
        filter: Some(pb::CatalogFilter {
            country: "US".into(),
            ..Default::default()
        }),
        page_size: 5,
        ..Default::default()
    }
}

on_both_backends!(
    a_unary_call_over_http1_answers_as_over_grpc,
    async |app: &TestApp| {
        let mut client = h1(app).await;
        let token = app.token(Some("us"), Role::SalesAgent);
        let response = send(
            &mut client,
            call(app, LIST_PRODUCTS, Some(&token), &list_products()),
        )
        .await;
        assert_eq!(response.version(), http::Version::HTTP_11);
        let answer = Answer::read(response).await;
        assert_eq!(answer.http, StatusCode::OK);
        assert_eq!(answer.headers[http::header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(
            answer.status().code(),
            tonic::Code::Ok,
            "{:?}",
            answer.trailers
        );
        assert_eq!(answer.messages.len(), 1);
        let web = pb::ListProductsResponse::decode(answer.messages[0].clone()).unwrap();
        // The same answer as native gRPC's.
        let native = app
            .catalog("us", Role::SalesAgent)
            .list_products(list_products())
            .await
            .unwrap()
            .into_inner();
        assert!(!web.products.is_empty());
        assert_eq!(web, native);

        // The same connection (HTTP/1.1 keep-alive) carries the next call: without a token
        // the interceptor refuses it, the status in the trailers frame.
        let response = send(
            &mut client,
            call(app, LIST_PRODUCTS, None, &list_products()),
        )
        .await;
        let answer = Answer::read(response).await;
        assert_eq!(answer.http, StatusCode::OK);
        assert!(answer.messages.is_empty());
        assert_eq!(answer.status().code(), tonic::Code::Unauthenticated);
        assert_eq!(common::reason(&answer.status()), "UNAUTHENTICATED");
    }
);

on_both_backends!(
    a_refused_call_carries_its_google_rpc_details_in_the_trailers_frame,
    async |app: &TestApp| {
        let mut client = h1(app).await;
        let token = app.token(Some("us"), Role::SalesAgent);
        let bad = pb::ListProductsRequest {
            page_size: -1,
            ..list_products()
        };
        let response = send(&mut client, call(app, LIST_PRODUCTS, Some(&token), &bad)).await;
        let answer = Answer::read(response).await;
        assert_eq!(answer.http, StatusCode::OK);
        assert!(answer.messages.is_empty());
        let status = answer.status();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        // The field and its rule, exactly as native gRPC gives them.
        common::assert_bad_field(&status, "page_size");
        let native = app
            .catalog("us", Role::SalesAgent)
            .list_products(bad)
            .await
            .unwrap_err();
        assert_eq!(status.message(), native.message());
        assert_eq!(status.details(), native.details());
    }
);

on_both_backends!(the_change_stream_flows_over_http1, async |app: &TestApp| {
    let mut client = h1(app).await;
    let token = app.token(Some("us"), Role::HelpdeskAgent);
    let watch = pb::WatchCatalogChangesRequest {
        start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
        ..Default::default()
    };
    let response = send(&mut client, call(app, WATCH, Some(&token), &watch)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[http::header::CONTENT_TYPE], CONTENT_TYPE);
    let mut stream = Frames::new(response.into_body());
    let first = stream.message::<pb::WatchCatalogChangesResponse>().await;
    let Some(Event::Progress(progress)) = first.event else {
        panic!("the stream starts with its progress: {first:?}");
    };
    // A month published while the stream is open arrives on it.
    let mut admin = app.admin(None, Role::CatalogAdmin);
    common::upload(
        &mut admin,
        &common::month_request("2026-12", &common::demo_dir("2026-12")),
    )
    .await
    .unwrap();
    admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: "2026-12".into(),
        })
        .await
        .unwrap();
    loop {
        let next = stream.message::<pb::WatchCatalogChangesResponse>().await;
        match next.event {
            Some(Event::Changes(batch)) => {
                assert!(!batch.changes.is_empty());
                assert!(
                    batch
                        .changes
                        .iter()
                        .all(|c| c.revision > progress.current_revision)
                );
                break;
            }
            Some(Event::Progress(_)) => continue,
            other => panic!("{other:?}"),
        }
    }
});

pub const LIST_PRODUCTS: &str = "/csp.commerce.v1.CatalogService/ListProducts";
pub const WATCH: &str = "/csp.commerce.v1.CatalogService/WatchCatalogChanges";

/// A gRPC-Web answer read frame by frame as it arrives (a stream never ends by itself).
pub struct Frames {
    body: hyper::body::Incoming,
    buffer: Bytes,
}

impl Frames {
    pub fn new(body: hyper::body::Incoming) -> Self {
        Self {
            body,
            buffer: Bytes::new(),
        }
    }

    /// The next message, within 10 s.
    pub async fn message<M: Message + Default>(&mut self) -> M {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match next_frame(&mut self.buffer) {
                    Some(Frame::Message(bytes)) => return M::decode(bytes).unwrap(),
                    Some(Frame::Trailers(trailers)) => {
                        panic!(
                            "the stream ended: {:?}",
                            tonic::Status::from_header_map(&trailers)
                        )
                    }
                    None => {}
                }
                let frame = self
                    .body
                    .frame()
                    .await
                    .expect("the answer goes on")
                    .unwrap();
                if let Ok(data) = frame.into_data() {
                    let mut joined = BytesMut::from(&self.buffer[..]);
                    joined.put_slice(&data);
                    self.buffer = joined.freeze();
                }
            }
        })
        .await
        .expect("a message within 10 s")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_grpc_needs_http2() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let mut client = h1(&app).await;
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut request = call(&app, LIST_PRODUCTS, Some(&token), &list_products());
    request.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    let response = send(&mut client, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

/// With `web` off the port is what it was before gRPC-Web: native gRPC over HTTP/2, nothing
/// over HTTP/1.1 (not even an answer), no console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_web_off_only_native_grpc_is_served() {
    let app = TestApp::spawn_with(common::Backend::Sqlite, |s| s.web = false)
        .await
        .unwrap();
    let mut client = h1(&app).await;
    let token = app.token(Some("us"), Role::SalesAgent);
    client.ready().await.unwrap();
    let web_call = client
        .send_request(call(&app, LIST_PRODUCTS, Some(&token), &list_products()))
        .await;
    assert!(
        web_call.is_err(),
        "HTTP/1.1 answered: {:?}",
        web_call.map(|r| r.status())
    );

    let products = app
        .catalog("us", Role::SalesAgent)
        .list_products(list_products())
        .await
        .unwrap()
        .into_inner();
    assert!(!products.products.is_empty());
    app.stop().await;
}

/// A browser on TLS speaks gRPC-Web over HTTP/2: the same translation, on the same port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_over_http2_is_answered_alike() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut h2, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut request = call(&app, LIST_PRODUCTS, Some(&token), &list_products());
    *request.uri_mut() = format!("http://{}{LIST_PRODUCTS}", app.addr)
        .parse()
        .unwrap();
    request.headers_mut().remove(http::header::HOST);
    let response = h2.send_request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let answer = Answer::read(response).await;
    assert_eq!(answer.headers[http::header::CONTENT_TYPE], CONTENT_TYPE);
    assert_eq!(answer.status().code(), tonic::Code::Ok);
    let web = pb::ListProductsResponse::decode(answer.messages[0].clone()).unwrap();
    assert!(!web.products.is_empty());
    app.stop().await;
}
