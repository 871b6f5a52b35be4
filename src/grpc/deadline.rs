//! The server's deadline for a call: a call whose answer has not started within it is ended
//! DEADLINE_EXCEEDED (tonic's own `timeout` answers CANCELLED, which tells a client nothing
//! about retrying). It covers a unary call whole, and a stream until its first answer: a
//! server stream's body is not cut. A shorter `grpc-timeout` from the client is applied by
//! tonic as usual. CatalogAdminService has a deadline of its own: a month's upload and import
//! take minutes.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    pub limit: Duration,
    /// The deadline of CatalogAdminService's calls.
    pub admin_limit: Duration,
}

/// The path prefix of CatalogAdminService's methods.
const ADMIN_PATH: &str = "/csp.commerce.v1.CatalogAdminService/";

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            limits: *self,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    limits: DeadlineLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B> tower::Service<http::Request<B>> for Deadline<S>
where
    S: tower::Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        >,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = if request.uri().path().starts_with(ADMIN_PATH) {
            self.limits.admin_limit
        } else {
            self.limits.limit
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_) => Ok(Status::with_error_details(
                    Code::DeadlineExceeded,
                    format!(
                        "the call did not finish within the server's deadline of {} ms",
                        limit.as_millis()
                    ),
                    ErrorDetails::with_error_info(
                        "DEADLINE_EXCEEDED",
                        super::error::ERROR_DOMAIN,
                        [],
                    ),
                )
                .into_http()),
            }
        })
    }
}
