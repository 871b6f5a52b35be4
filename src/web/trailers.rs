//! A gRPC-Web answer's status always in its trailers frame. gRPC answers a call refused
//! before its first message "trailers-only" (the status in the HTTP headers), and tonic-web
//! passes that on as headers; a browser script of another origin reads only the headers CORS
//! exposes, and some clients read the status only from the body. So the status (code,
//! message, google.rpc details) of such an answer moves into the body's one trailers frame,
//! as it is for every answer that sent messages first.

use std::task::{Context, Poll};

use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use futures::TryFutureExt;
use futures::future::MapOk;
use http::header::CONTENT_TYPE;
use http::{HeaderName, Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

/// The headers of a status (gRPC over HTTP/2's trailers).
const STATUS_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("grpc-status"),
    HeaderName::from_static("grpc-message"),
    HeaderName::from_static("grpc-status-details-bin"),
];
/// The flag of a gRPC-Web trailers frame.
const TRAILERS_FLAG: u8 = 0x80;

#[derive(Clone, Copy, Debug, Default)]
pub struct TrailersFrameLayer;

impl<S> Layer<S> for TrailersFrameLayer {
    type Service = TrailersFrame<S>;

    fn layer(&self, inner: S) -> TrailersFrame<S> {
        TrailersFrame { inner }
    }
}

#[derive(Clone, Debug)]
pub struct TrailersFrame<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for TrailersFrame<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = MapOk<S::Future, fn(Response<Body>) -> Response<Body>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        self.inner
            .call(request)
            .map_ok(status_into_body as fn(_) -> _)
    }
}

/// A trailers-only gRPC-Web answer made an answer of one trailers frame; any other as it is.
fn status_into_body(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers();
    let grpc_web = headers
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/grpc-web"));
    if !grpc_web || !headers.contains_key(&STATUS_HEADERS[0]) {
        return response;
    }
    let text = headers
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/grpc-web-text"));
    let mut trailers = Vec::new();
    for name in &STATUS_HEADERS {
        if let Some(value) = response.headers_mut().remove(name) {
            trailers.put_slice(name.as_str().as_bytes());
            trailers.put_u8(b':');
            trailers.put_slice(value.as_bytes());
            trailers.put_slice(b"\r\n");
        }
    }
    let mut frame = BytesMut::with_capacity(5 + trailers.len());
    frame.put_u8(TRAILERS_FLAG);
    frame.put_u32(u32::try_from(trailers.len()).unwrap_or(u32::MAX));
    frame.put_slice(&trailers);
    let frame = if text {
        Bytes::from(base64::engine::general_purpose::STANDARD.encode(&frame))
    } else {
        frame.freeze()
    };
    response.headers_mut().remove(http::header::CONTENT_LENGTH);
    *response.body_mut() = Body::new(http_body_util::Full::new(frame));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_status_in_the_headers_becomes_the_trailers_frame() {
        let mut response = tonic::Status::invalid_argument("no").into_http::<Body>();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/grpc-web+proto"),
        );
        let response = status_into_body(response);
        assert!(!response.headers().contains_key("grpc-status"));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body[0], TRAILERS_FLAG);
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        assert_eq!(len, body.len() - 5);
        let text = std::str::from_utf8(&body[5..]).unwrap();
        assert!(text.starts_with("grpc-status:3\r\n"), "{text}");
        assert!(text.contains("grpc-message:no\r\n"), "{text}");
    }

    #[tokio::test]
    async fn an_answer_with_messages_is_left_as_it_is() {
        let mut response = Response::new(Body::empty());
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/grpc-web+proto"),
        );
        let response = status_into_body(response);
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            HeaderValue::from_static("application/grpc-web+proto")
        );
        assert!(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .is_empty()
        );
    }
}
