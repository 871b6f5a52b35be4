//! A raw HTTP/2 client (hyper's) for what a well-behaved gRPC client never sends: unfinished
//! or malformed messages, streams that grant no window.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;

pub type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;
pub type Send = hyper::client::conn::http2::SendRequest<Body>;

/// A new connection; `stream_window`: the initial window the server may send into.
pub async fn connect(addr: SocketAddr, stream_window: u32) -> Send {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (send, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(stream_window)
            .handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    send
}

/// A gRPC message: the 5-byte prefix and `message`.
pub fn framed(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(0);
    out.put_u32(message.len() as u32);
    out.put_slice(message);
    out.freeze()
}

pub fn full(bytes: Bytes) -> Body {
    http_body_util::Full::new(bytes).boxed()
}

/// A gRPC POST of `body` to `path`.
pub fn request(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: Body,
) -> http::Request<Body> {
    let mut builder = http::Request::post(format!("http://{addr}{path}"))
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("te", "trailers");
    if let Some(token) = token {
        builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(body).unwrap()
}

/// The call's `grpc-status` and `grpc-message`, from the headers (trailers only) or the
/// trailers after the body.
pub async fn status(response: http::Response<hyper::body::Incoming>) -> (i32, String) {
    let read = |h: &http::HeaderMap| {
        h.get("grpc-status").map(|s| {
            (
                s.to_str().unwrap().parse::<i32>().unwrap(),
                h.get("grpc-message")
                    .map(|m| percent_decode(m.to_str().unwrap()))
                    .unwrap_or_default(),
            )
        })
    };
    if let Some(s) = read(response.headers()) {
        return s;
    }
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        if let Ok(trailers) = frame.unwrap().into_trailers() {
            return read(&trailers).expect("trailers without grpc-status");
        }
    }
    panic!("the call ended without a status");
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
