//! `WatchCatalogChanges` served below tonic's codec, so that a batch of changes shared by
//! thousands of subscribers is never copied per subscriber.
//!
//! tonic encodes every message of a response stream into a buffer of the stream's own (one
//! copy of every batch per subscriber, in freshly faulted-in pages). Here the response body
//! hands hyper each message as two frames: its 5-byte gRPC prefix with the record key, then
//! the batch's shared bytes as they are (`Bytes`: a reference count, no copy). h2 writes both
//! out with vectored writes.
//!
//! A subscriber that accepts zstd (`grpc-accept-encoding`) gets each broadcast batch as the
//! compressed message the feed made once for everyone (`wire::compress_changes_message`): the
//! stream's `grpc-encoding` is `zstd`, and batches that have no compressed form (filtered or
//! small ones) and progress messages go with the uncompressed flag, as gRPC allows.
//!
//! [`WatchRoute`] wraps the generated `CatalogService` server, inside the authenticating
//! interceptor, and takes only this method's path; everything else (and this method's own
//! validation, feed and statuses: `CatalogApi::watch`) is shared with the tonic handler. It
//! speaks the same protocol as tonic: one uncompressed request message, `grpc-status` (with
//! `grpc-status-details-bin`) in the trailers, or trailers only when the call fails at once.
//!
//! Each stream gets its connection's kill switch (`listener::Connections`): when its
//! subscriber takes nothing past the slow-subscriber timeout and hyper does not poll the
//! stream (no HTTP/2 window), the feed's watchdog ends the connection.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use futures::Stream;
use http_body::Frame;
use http_body_util::BodyExt;
use prost::Message;
use tonic::Status;
use tonic::server::NamedService;

use super::catalog::{CatalogApi, stream_end};
use super::listener::{Connections, HeldOpen};
use super::pb;
use crate::service::feed::{Delivery, FeedEvent, StallHandler, WireBatch};

/// The route this module serves.
pub const PATH: &str = "/csp.commerce.v1.CatalogService/WatchCatalogChanges";

/// A request message larger than this is refused (the request is a few filters).
const MAX_REQUEST: usize = 64 * 1024;

/// gRPC's length prefix: the compressed flag and the message length.
const PREFIX: usize = 5;

const ENCODING: http::HeaderName = http::HeaderName::from_static("grpc-encoding");
const ACCEPT_ENCODING: http::HeaderName = http::HeaderName::from_static("grpc-accept-encoding");

/// Whether the caller accepts zstd-compressed messages.
fn accepts_zstd(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.trim().eq_ignore_ascii_case("zstd"))
}

/// The generated catalog server `S`, with `WatchCatalogChanges` served by this module.
#[derive(Clone)]
pub struct WatchRoute<S> {
    inner: S,
    api: CatalogApi,
    connections: Arc<Connections>,
}

impl<S> WatchRoute<S> {
    pub fn new(inner: S, api: CatalogApi, connections: Arc<Connections>) -> Self {
        Self {
            inner,
            api,
            connections,
        }
    }
}

/// The subject (`sub`) of the bearer token in `headers`. The interceptor in front verified
/// the token; only its claims are read here.
pub fn token_subject(headers: &http::HeaderMap) -> Option<String> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Subject {
        sub: String,
    }
    let token = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let claims = token.split('.').nth(1)?;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()?;
    serde_json::from_slice::<Subject>(&claims)
        .ok()
        .map(|s| s.sub)
}

impl<S: NamedService> NamedService for WatchRoute<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<http::Request<tonic::body::Body>> for WatchRoute<S>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        if request.uri().path() != PATH {
            return Box::pin(self.inner.call(request));
        }
        let api = self.api.clone();
        // The connection's kill switch, found by the peer's address (with TLS too).
        let switch =
            super::peer_address(&request).and_then(|peer| self.connections.kill_switch(peer));
        // Over HTTP/1.1 (gRPC-Web) the client sends nothing while it reads the stream.
        let held = switch
            .as_ref()
            .filter(|_| request.version() < http::Version::HTTP_2)
            .map(|switch| switch.hold_open());
        let on_stall: Option<StallHandler> =
            switch.map(|switch| Box::new(move || switch.kill()) as StallHandler);
        Box::pin(async move {
            Ok(match watch(api, on_stall, request).await {
                Ok(mut body) => {
                    body.held = held;
                    let zstd = body.zstd;
                    let mut response = http::Response::new(tonic::body::Body::new(body));
                    let headers = response.headers_mut();
                    headers.insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/grpc"),
                    );
                    if zstd {
                        headers.insert(ENCODING, http::HeaderValue::from_static("zstd"));
                    }
                    response
                }
                // Trailers only.
                Err(status) => status.into_http(),
            })
        })
    }
}

async fn watch(
    api: CatalogApi,
    on_stall: Option<StallHandler>,
    request: http::Request<tonic::body::Body>,
) -> Result<WatchBody, Status> {
    let (parts, body) = request.into_parts();
    // Put there by the interceptor in front.
    let caller = parts.extensions.get().copied();
    let user = token_subject(&parts.headers);
    let zstd = accepts_zstd(&parts.headers);
    let bytes = http_body_util::Limited::new(body, PREFIX + MAX_REQUEST)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                refused(
                    tonic::Code::ResourceExhausted,
                    "REQUEST_TOO_LARGE",
                    &format!("the request message is larger than {MAX_REQUEST} bytes"),
                )
            } else {
                tracing::debug!(error = %e, "reading a WatchCatalogChanges request failed");
                refused(
                    tonic::Code::Unavailable,
                    "REQUEST_NOT_READ",
                    "the request could not be read",
                )
            }
        })?
        .to_bytes();
    let message = request_message(&bytes)?;
    let deliveries = api
        .watch(caller, user.as_deref(), on_stall, message)
        .await?;
    Ok(WatchBody {
        deliveries: Box::pin(deliveries),
        payload: None,
        ended: false,
        zstd,
        held: None,
    })
}

/// The one request message of a call, uncompressed.
fn request_message(bytes: &[u8]) -> Result<pb::WatchCatalogChangesRequest, Status> {
    let Some((prefix, message)) = bytes.split_first_chunk::<PREFIX>() else {
        return Err(refused(
            tonic::Code::InvalidArgument,
            "NO_REQUEST_MESSAGE",
            "the call carries no request message",
        ));
    };
    if prefix[0] != 0 {
        return Err(refused(
            tonic::Code::Unimplemented,
            "COMPRESSED_REQUEST",
            "compressed requests are not accepted by this method",
        ));
    }
    let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    if len != message.len() {
        return Err(refused(
            tonic::Code::InvalidArgument,
            "NOT_ONE_REQUEST_MESSAGE",
            "the call must carry exactly one request message",
        ));
    }
    pb::WatchCatalogChangesRequest::decode(message).map_err(|_| super::codec::malformed_request())
}

/// A status with its ErrorInfo.
fn refused(code: tonic::Code, reason: &str, message: &str) -> Status {
    use tonic_types::{ErrorDetails, StatusExt};
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason, super::error::ERROR_DOMAIN, []),
    )
}

/// The response body: each delivery becomes a message, the end of the stream its trailers.
struct WatchBody {
    deliveries: Pin<Box<dyn Stream<Item = Delivery> + Send>>,
    /// The shared bytes of the message whose prefix was just sent.
    payload: Option<Bytes>,
    ended: bool,
    /// Whether batches go compressed where they have a compressed form.
    zstd: bool,
    /// Its connection, kept from the idle timeout while it lives (HTTP/1.1).
    held: Option<HeldOpen>,
}

impl WatchBody {
    /// `WatchCatalogChangesResponse { changes: <batch> }`: the prefix (with the field's key and
    /// length) as one frame, the batch's shared bytes as the next; or, compressed, the prefix
    /// and the shared compressed message.
    fn changes(&mut self, batch: WireBatch) -> Bytes {
        if self.zstd
            && let Some(compressed) = batch.compressed
        {
            let mut prefix = BytesMut::with_capacity(PREFIX);
            prefix.put_u8(1);
            prefix.put_u32(compressed.len() as u32);
            self.payload = Some(compressed);
            return prefix.freeze();
        }
        let batch = batch.plain;
        let len = batch.len();
        // Field 1, length-delimited.
        let key = 1 << 3 | 2;
        let message_len = 1 + prost::encoding::encoded_len_varint(len as u64) + len;
        let mut prefix = BytesMut::with_capacity(PREFIX + 1 + 10);
        prefix.put_u8(0);
        prefix.put_u32(message_len as u32);
        prefix.put_u8(key);
        prost::encoding::encode_varint(len as u64, &mut prefix);
        self.payload = Some(batch);
        prefix.freeze()
    }

    fn progress(revision: u64) -> Bytes {
        let message = pb::WatchCatalogChangesResponse {
            event: Some(pb::watch_catalog_changes_response::Event::Progress(
                pb::WatchProgress {
                    current_revision: revision,
                },
            )),
        };
        let mut out = BytesMut::with_capacity(PREFIX + message.encoded_len());
        out.put_u8(0);
        out.put_u32(message.encoded_len() as u32);
        message.encode_raw(&mut out);
        out.freeze()
    }

    fn trailers(&mut self, status: &Status) -> Frame<Bytes> {
        self.ended = true;
        let mut trailers = http::HeaderMap::new();
        if let Err(unencodable) = status.add_header(&mut trailers) {
            tracing::error!(status = ?status, "a stream's end status cannot be sent as headers");
            trailers.clear();
            // Always encodable: a fixed code and message.
            let _ = Status::internal(unencodable.message().to_owned()).add_header(&mut trailers);
        }
        Frame::trailers(trailers)
    }
}

impl http_body::Body for WatchBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(payload) = self.payload.take() {
            return Poll::Ready(Some(Ok(Frame::data(payload))));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        let frame = match ready!(self.deliveries.as_mut().poll_next(cx)) {
            Some(Delivery::Event(FeedEvent::Changes(batch))) => Frame::data(self.changes(batch)),
            Some(Delivery::Event(FeedEvent::Progress(revision))) => {
                Frame::data(Self::progress(revision))
            }
            Some(Delivery::End(end)) => self.trailers(&stream_end(end)),
            None => self.trailers(&Status::ok("")),
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.payload.is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_batch_message_is_the_public_message() {
        let batch = pb::CatalogChangeBatch {
            changes: vec![pb::CatalogChange {
                revision: 7,
                month: "2026-12".into(),
                product_id: "CFQ7TTC0LH18".into(),
                ..Default::default()
            }],
        };
        let mut body = WatchBody {
            deliveries: Box::pin(futures::stream::empty()),
            payload: None,
            ended: false,
            zstd: false,
            held: None,
        };
        let plain = Bytes::from(batch.encode_to_vec());
        let wire = WireBatch {
            plain: plain.clone(),
            compressed: Some(Bytes::from(zstd::bulk::compress(&plain, 3).unwrap())),
        };
        let mut framed = body.changes(wire.clone()).to_vec();
        framed.extend_from_slice(&body.payload.take().unwrap());
        let (flag, message) = prefix_checked(&framed);
        assert_eq!(flag, 0);
        let decoded = pb::WatchCatalogChangesResponse::decode(message).unwrap();
        assert_eq!(
            decoded.event,
            Some(pb::watch_catalog_changes_response::Event::Changes(batch))
        );

        body.zstd = true;
        let mut framed = body.changes(wire.clone()).to_vec();
        framed.extend_from_slice(&body.payload.take().unwrap());
        let (flag, message) = prefix_checked(&framed);
        assert_eq!((flag, message), (1, &wire.compressed.clone().unwrap()[..]));
        // Nothing to compress with: as it is.
        let mut framed = body
            .changes(WireBatch {
                compressed: None,
                ..wire
            })
            .to_vec();
        framed.extend_from_slice(&body.payload.take().unwrap());
        assert_eq!(prefix_checked(&framed).0, 0);

        let framed = WatchBody::progress(9);
        let (flag, message) = prefix_checked(&framed);
        assert_eq!(flag, 0);
        let decoded = pb::WatchCatalogChangesResponse::decode(message).unwrap();
        assert_eq!(
            decoded.event,
            Some(pb::watch_catalog_changes_response::Event::Progress(
                pb::WatchProgress {
                    current_revision: 9
                }
            ))
        );
    }

    /// The compressed flag and the message after a gRPC prefix whose length is checked.
    fn prefix_checked(framed: &[u8]) -> (u8, &[u8]) {
        let (prefix, message) = framed.split_first_chunk::<PREFIX>().unwrap();
        assert_eq!(
            u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize,
            message.len()
        );
        (prefix[0], message)
    }

    #[test]
    fn zstd_is_used_only_when_accepted() {
        let headers = |v: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(ACCEPT_ENCODING, http::HeaderValue::from_static(v));
            h
        };
        assert!(accepts_zstd(&headers("zstd")));
        assert!(accepts_zstd(&headers("identity, gzip, zstd")));
        assert!(!accepts_zstd(&headers("identity,deflate,gzip")));
        assert!(!accepts_zstd(&http::HeaderMap::new()));
    }

    #[test]
    fn a_request_is_one_uncompressed_message() {
        let request = pb::WatchCatalogChangesRequest {
            countries: vec!["US".into()],
            ..Default::default()
        };
        let mut framed = vec![0];
        framed.extend_from_slice(&(request.encoded_len() as u32).to_be_bytes());
        framed.extend_from_slice(&request.encode_to_vec());
        assert_eq!(request_message(&framed).unwrap(), request);

        let mut compressed = framed.clone();
        compressed[0] = 1;
        assert_eq!(
            request_message(&compressed).unwrap_err().code(),
            tonic::Code::Unimplemented
        );
        let mut two = framed.clone();
        two.extend_from_slice(&framed);
        assert_eq!(
            request_message(&two).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
        assert_eq!(
            request_message(&[]).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }
}
