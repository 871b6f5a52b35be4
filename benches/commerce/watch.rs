//! How the subscribers read WatchCatalogChanges: a lean client on hyper's HTTP/2, or tonic's with
//! a codec that reads only how far a batch got (`batch_top`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use csp_commerce::grpc::pb;
use prost::Message as _;

use crate::{SUBSCRIBER_FRAME_SIZE, SubscriberEncoding, SubscriberInflate};

/// A connection of the lean subscribers: HTTP/2 straight from hyper, frames up to 1 MiB.
pub(crate) async fn lean_connection(
    addr: SocketAddr,
) -> Result<hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (send, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .max_frame_size(SUBSCRIBER_FRAME_SIZE)
            .initial_stream_window_size(2 << 20)
            .initial_connection_window_size(5 << 20)
            .handshake(hyper_util::rt::TokioIo::new(tcp))
            .await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(send)
}

/// One lean subscriber: `WatchCatalogChanges {from_now}` as a gRPC call over `send`; hands
/// `tops` the `batch_top` of every message, read where it arrived (a message split over
/// frames is joined first; a compressed one inflated into a buffer of the thread's).
/// With `SubscriberInflate::Once`, a compressed message whose bytes this thread inflated
/// before is known by their hash instead.
pub(crate) async fn lean_watch(
    mut send: hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
    uri: http::Uri,
    authorization: http::HeaderValue,
    (encoding, inflate): (SubscriberEncoding, SubscriberInflate),
    ready: &AtomicU64,
    mut tops: impl FnMut(u64),
) -> Result<(), String> {
    use bytes::Buf as _;
    use http_body_util::BodyExt as _;
    let framed = crate::support::grpc_frame(&pb::WatchCatalogChangesRequest {
        start: Some(pb::watch_catalog_changes_request::Start::FromNow(true)),
        ..Default::default()
    });
    let request = http::Request::post(uri)
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("te", "trailers")
        .header(http::header::AUTHORIZATION, authorization)
        .header(
            "grpc-accept-encoding",
            match encoding {
                SubscriberEncoding::Zstd => "zstd",
                SubscriberEncoding::Identity => "identity",
            },
        )
        .body(http_body_util::Full::new(framed))
        .map_err(|e| e.to_string())?;
    send.ready().await.map_err(|e| e.to_string())?;
    let response = send
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(status) = response.headers().get("grpc-status") {
        return Err(format!("refused: grpc-status {status:?}"));
    }
    ready.fetch_add(1, Ordering::Relaxed);
    let mut body = response.into_body();
    let (mut head, mut head_len, mut need, mut parts) =
        ([0u8; 5], 0, 0, Vec::<bytes::Bytes>::new());
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        let mut data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                let status = frame.trailers_ref().and_then(|t| t.get("grpc-status"));
                return match status.map(http::HeaderValue::as_bytes) {
                    Some(b"0") => Ok(()),
                    other => Err(format!("ended: grpc-status {other:?}")),
                };
            }
        };
        while data.has_remaining() {
            if head_len < 5 {
                let take = (5 - head_len).min(data.len());
                head[head_len..head_len + take].copy_from_slice(&data[..take]);
                data.advance(take);
                head_len += take;
                need = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            } else {
                let take = need.min(data.len());
                parts.push(data.split_to(take));
                need -= take;
            }
            if head_len == 5 && need == 0 {
                let joined;
                let message: &[u8] = match parts.as_slice() {
                    [one] => one,
                    _ => {
                        joined = parts.concat();
                        &joined
                    }
                };
                let top = if head[0] == 1 {
                    inflated_top(message, inflate == SubscriberInflate::Once)?
                } else {
                    batch_top(message)?
                };
                if let Some(top) = top {
                    tops(top);
                }
                parts.clear();
                head_len = 0;
            }
        }
    }
    Err("the stream ended without trailers".into())
}

/// A zstd context and its output buffer.
type Inflater = (zstd::bulk::Decompressor<'static>, Vec<u8>);

/// How many inflated messages each thread remembers (`--subscriber-inflate once`).
const INFLATED_KEPT: usize = 64;

thread_local! {
    /// The lean subscribers' inflater, one per thread, made on first use.
    static INFLATE: std::cell::RefCell<Option<Inflater>> = const { std::cell::RefCell::new(None) };
    /// The messages this thread inflated last: the xxh3-128 hash of their compressed bytes,
    /// and the `batch_top` read from them.
    static INFLATED: std::cell::RefCell<Vec<(u128, Option<u64>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The `batch_top` of a zstd-compressed message; with `once`, read from the message with the
/// same hash this thread inflated before, if any.
fn inflated_top(message: &[u8], once: bool) -> Result<Option<u64>, String> {
    let hash = once.then(|| xxhash_rust::xxh3::xxh3_128(message));
    if let Some(hash) = hash {
        let known =
            INFLATED.with_borrow(|kept| kept.iter().find(|(h, _)| *h == hash).map(|(_, top)| *top));
        if let Some(top) = known {
            return Ok(top);
        }
    }
    let top = INFLATE.with_borrow_mut(|slot| {
        let (inflater, out) = match slot {
            Some(made) => made,
            None => slot.insert((
                zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?,
                Vec::with_capacity(4 << 20),
            )),
        };
        out.clear();
        inflater
            .decompress_to_buffer(message, out)
            .map_err(|e| e.to_string())?;
        batch_top(out)
    })?;
    if let Some(hash) = hash {
        INFLATED.with_borrow_mut(|kept| {
            if kept.len() == INFLATED_KEPT {
                kept.remove(0);
            }
            kept.push((hash, top));
        });
    }
    Ok(top)
}

/// Waits until `n` subscribers got their response headers (or failed), for at most `within`.
pub(crate) async fn wait_subscribed(
    ready: &AtomicU64,
    errors: &AtomicU64,
    n: usize,
    within: Duration,
) -> Result<()> {
    let deadline = Instant::now() + within;
    while (ready.load(Ordering::Relaxed) + errors.load(Ordering::Relaxed)) < n as u64 {
        if Instant::now() > deadline {
            bail!(
                "only {} of {n} subscribed within {within:?}",
                ready.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// How far a `WatchCatalogChangesResponse` got, as a subscriber of the benchmark reads it:
/// `None` for a progress message, else the revision of the batch's last change (changes come in
/// revision order). It walks every change's length prefix and decodes the last change; the
/// bytes of every change still cross the connection. Decoding every field of ten million
/// changes would measure this load generator, on the same two cores as the server.
fn batch_top(message: &[u8]) -> Result<Option<u64>, String> {
    let Some(batch) = last_field(message, 1)? else {
        return Ok(None);
    };
    let Some(last) = last_field(batch, 1)? else {
        return Ok(None);
    };
    ThinChange::decode(last)
        .map(|c| Some(c.revision))
        .map_err(|e| e.to_string())
}

/// The last length-delimited field `tag` of `message`, whose fields are all length-delimited.
fn last_field(mut message: &[u8], tag: u32) -> Result<Option<&[u8]>, String> {
    use prost::encoding::{WireType, decode_key, decode_varint};
    let mut last = None;
    while !message.is_empty() {
        let (field, wire_type) = decode_key(&mut message).map_err(|e| e.to_string())?;
        if wire_type != WireType::LengthDelimited {
            return Err(format!("field {field} is not length-delimited"));
        }
        let len = usize::try_from(decode_varint(&mut message).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        if len > message.len() {
            return Err(format!("field {field} runs past the message"));
        }
        let (value, rest) = message.split_at(len);
        if field == tag {
            last = Some(value);
        }
        message = rest;
    }
    Ok(last)
}

#[derive(Clone, PartialEq, prost::Message)]
struct ThinChange {
    #[prost(uint64, tag = "1")]
    revision: u64,
}

/// Requests encoded by prost, answers read by `batch_top` where they arrived (in tonic's
/// buffer, which is then reused: nothing is copied or allocated per answer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WatchCodec;

pub(crate) struct TopDecoder;

impl tonic::codec::Decoder for TopDecoder {
    /// `batch_top` of the answer.
    type Item = Option<u64>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Option<u64>>, tonic::Status> {
        use bytes::Buf as _;
        let len = src.remaining();
        let top = if src.chunk().len() >= len {
            batch_top(&src.chunk()[..len])
        } else {
            batch_top(&src.copy_to_bytes(len))
        }
        .map_err(tonic::Status::data_loss)?;
        src.advance(src.remaining());
        Ok(Some(top))
    }
}

impl tonic::codec::Codec for WatchCodec {
    type Encode = pb::WatchCatalogChangesRequest;
    type Decode = Option<u64>;
    type Encoder = tonic_prost::ProstEncoder<pb::WatchCatalogChangesRequest>;
    type Decoder = TopDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(tonic::codec::BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        TopDecoder
    }
}
