//! What a browser meets on the gRPC port, in front of the whole gRPC stack (so every
//! protection behind it, the metrics, the deadline, authentication and quotas, applies alike):
//!
//! - `GET`/`HEAD`: the console's embedded files (`console.rs`), and on loopback with the
//!   development secret the console's sign-in (`dev.rs`).
//! - gRPC-Web (HTTP/1.1 or HTTP/2, `application/grpc-web*`): tonic-web turns it into a gRPC
//!   call and the answer back (the status always in the last frame: `trailers.rs`), behind CORS (tower-http) for the
//!   origins of `grpc_web_origins`. A request whose `Origin` is neither one of them nor the
//!   server's own is refused (403) before anything runs.
//! - Native gRPC (HTTP/2, no `Origin`) goes straight to the stack: only its method, version
//!   and two headers are looked at.
//! - Anything else over HTTP/1.1 (native gRPC cannot ride it: no trailers) is 400.
//!
//! Native answers keep their body's own type (`http_body_util::Either`'s left side): tonic
//! boxes it once, as it does with no web layer at all. With the `web` setting off the layer
//! passes everything straight on and the server speaks HTTP/2 only.

pub mod console;
pub mod dev;
mod trailers;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::TryFutureExt;
use futures::future::{BoxFuture, Either, MapOk};
use http::header::{CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::Either as EitherBody;
use tonic::body::Body;
use tonic_web::{GrpcWebLayer, GrpcWebService};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

pub use console::Console;
pub use dev::DevSignIn;
use trailers::{TrailersFrame, TrailersFrameLayer};

/// Request headers a gRPC-Web client sends (Connect-ES, grpc-web, the console).
const ALLOWED_HEADERS: [&str; 8] = [
    "content-type",
    "authorization",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "grpc-accept-encoding",
    "traceparent",
    "tracestate",
];
/// Response headers a browser script may read (a trailers-only answer's status is there).
const EXPOSED_HEADERS: [&str; 4] = [
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "grpc-encoding",
];
/// How long a browser may keep a preflight's answer (Chromium's own cap).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(2 * 3600);

/// The origins allowed to call from elsewhere; the server's own is always allowed.
#[derive(Clone, Debug, Default)]
pub struct Origins(Arc<[HeaderValue]>);

impl Origins {
    /// `grpc_web_origins`, each exactly as a browser sends it (`https://host[:port]`).
    pub fn new(origins: &[String]) -> anyhow::Result<Self> {
        let parsed = origins
            .iter()
            .map(|origin| {
                let origin = origin.trim().trim_end_matches('/');
                let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                    && origin.parse::<http::Uri>().is_ok_and(|u| {
                        u.path_and_query()
                            .is_none_or(|p| p.as_str().is_empty() || p == "/")
                    });
                if !valid {
                    anyhow::bail!(
                        "grpc_web_origins: {origin:?} is not an origin (scheme://host[:port])"
                    );
                }
                Ok(HeaderValue::from_str(origin)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self(parsed.into()))
    }

    /// One of the list, or the origin of the server itself as the request names it (its
    /// `Host`, or HTTP/2's `:authority`).
    fn allow(&self, origin: &HeaderValue, uri: &http::Uri, headers: &http::HeaderMap) -> bool {
        if self.0.contains(origin) {
            return true;
        }
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| uri.authority().map(http::uri::Authority::as_str));
        let own = origin.to_str().ok().and_then(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
        });
        matches!((own, host), (Some(own), Some(host)) if own.eq_ignore_ascii_case(host))
    }
}

/// The layer in front of the gRPC stack (outermost).
#[derive(Clone)]
pub struct WebLayer {
    /// None: the `web` setting is off, every request goes straight to the stack.
    edge: Option<Arc<Edge>>,
}

struct Edge {
    console: Console,
    dev: Option<DevSignIn>,
    origins: Origins,
}

impl WebLayer {
    pub fn new(console: Console, dev: Option<DevSignIn>, origins: Origins) -> Self {
        Self {
            edge: Some(Arc::new(Edge {
                console,
                dev,
                origins,
            })),
        }
    }

    /// No console, no gRPC-Web: native gRPC only (the `web` setting off).
    pub fn off() -> Self {
        Self { edge: None }
    }

    fn cors(&self) -> CorsLayer {
        let origins = self
            .edge
            .as_ref()
            .map(|edge| edge.origins.clone())
            .unwrap_or_default();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, parts| {
                origins.allow(origin, &parts.uri, &parts.headers)
            }))
            .allow_methods([Method::POST])
            .allow_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
            .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
            .max_age(PREFLIGHT_MAX_AGE)
    }
}

impl<S: Clone> Layer<S> for WebLayer {
    type Service = WebService<S>;

    fn layer(&self, inner: S) -> WebService<S> {
        WebService {
            web: ServiceBuilder::new()
                .layer(self.cors())
                .layer(TrailersFrameLayer)
                .layer(GrpcWebLayer::new())
                .service(inner.clone()),
            native: inner,
            edge: self.edge.clone(),
        }
    }
}

#[derive(Clone)]
pub struct WebService<S> {
    native: S,
    web: Cors<TrailersFrame<GrpcWebService<S>>>,
    edge: Option<Arc<Edge>>,
}

/// A native answer's body as the stack made it, or a web one (boxed: not the hot path).
type AnyBody<B> = EitherBody<B, Body>;
type Native<B> = fn(Response<B>) -> Response<AnyBody<B>>;
type Web<B> = fn(Response<Body>) -> Response<AnyBody<B>>;
type WebFuture<S> = <Cors<TrailersFrame<GrpcWebService<S>>> as Service<Request<Body>>>::Future;

fn native<B>(response: Response<B>) -> Response<AnyBody<B>> {
    response.map(EitherBody::Left)
}

fn web<B>(response: Response<Body>) -> Response<AnyBody<B>> {
    response.map(EitherBody::Right)
}

impl<S, B> Service<Request<Body>> for WebService<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + std::fmt::Display,
{
    type Response = Response<AnyBody<B>>;
    type Error = S::Error;
    #[allow(clippy::type_complexity)]
    type Future = Either<
        MapOk<S::Future, Native<B>>,
        MapOk<Either<WebFuture<S>, BoxFuture<'static, Result<Response<Body>, S::Error>>>, Web<B>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.native.poll_ready(cx) {
            Poll::Ready(Ok(())) => Service::<Request<Body>>::poll_ready(&mut self.web, cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let Some(edge) = &self.edge else {
            return Either::Left(self.native.call(request).map_ok(native as Native<B>));
        };
        let web_answer = if matches!(*request.method(), Method::GET | Method::HEAD) {
            let edge = edge.clone();
            Either::Right(Box::pin(async move { Ok(edge.get(request).await) }) as BoxFuture<_>)
        } else {
            let origin = request.headers().get(ORIGIN);
            if let Some(origin) = origin
                && !edge.origins.allow(origin, request.uri(), request.headers())
            {
                tracing::debug!(?origin, "a request from an origin not allowed was refused");
                Either::Right(Box::pin(std::future::ready(Ok(refused_origin()))) as BoxFuture<_>)
            } else if request.version() == Version::HTTP_2
                && origin.is_none()
                && !request
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|t| t.as_bytes().starts_with(b"application/grpc-web"))
            {
                return Either::Left(self.native.call(request).map_ok(native as Native<B>));
            } else {
                Either::Left(self.web.call(request))
            }
        };
        Either::Right(web_answer.map_ok(web as Web<B>))
    }
}

impl Edge {
    async fn get(&self, request: Request<Body>) -> Response<Body> {
        if request.uri().path().starts_with(dev::PREFIX)
            && let Some(dev) = &self.dev
            && let Some(answer) = dev
                .answer(crate::grpc::peer_address(&request), request.uri())
                .await
        {
            return answer;
        }
        self.console
            .answer(request.method(), request.uri().path(), request.headers())
    }
}

fn refused_origin() -> Response<Body> {
    let mut response = Response::new(Body::new(http_body_util::Full::new(
        bytes::Bytes::from_static(
            b"this origin may not call the API: add it to grpc_web_origins\n",
        ),
    )));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
