//! The gRPC edge: generated code, conversions, the one error mapping, thin handlers, caller
//! authentication, health and reflection.

pub mod admin;
pub mod cart;
pub mod catalog;
pub mod codec;
pub mod convert;
pub mod customer;
pub mod deadline;
pub mod error;
pub mod listener;
pub mod metrics;
pub mod operator;
pub mod order;
#[cfg(test)]
mod parse_props;
pub mod quota;
pub mod subscription_events;
pub mod trace;
pub mod watch;
pub mod wire;

use std::net::IpAddr;
use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::auth::{Authenticated, TokenKeys};
use crate::domain::DomainError;
use crate::domain::customer::{Caller, Role};
use quota::{FailedAuth, Quotas};

/// `google.type` (google.type.Money), vendored in `proto/google/type/`.
pub mod google_type {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    // prost names the file after the module path, keyword escaped.
    include!(concat!(env!("OUT_DIR"), "/google.r#type.rs"));
}

pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("csp.commerce.v1");
    /// google.type.Money: every amount of the contract.
    pub use super::google_type::Money;
    // The servers, from the second pass of build.rs (messages are the ones above, but for the
    // answers of `super::wire`).
    include!(concat!(env!("OUT_DIR"), "/servers/csp.commerce.v1.rs"));
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("csp_commerce_descriptor");
}

/// The peer's address as tonic gives it to handlers (`Request::remote_addr`, TLS or not), from
/// a request in a tower layer.
pub fn peer_address<B>(request: &http::Request<B>) -> Option<std::net::SocketAddr> {
    let mut probe = http::Request::new(());
    *probe.extensions_mut() = request.extensions().clone();
    tonic::Request::from_http(probe).remote_addr()
}

/// Every service this binary serves, by its full gRPC name (for health).
pub const SERVICE_NAMES: &[&str] = &[
    "csp.commerce.v1.CatalogService",
    "csp.commerce.v1.CatalogAdminService",
    "csp.commerce.v1.CustomerService",
    "csp.commerce.v1.CartService",
    "csp.commerce.v1.OrderService",
    "csp.commerce.v1.OperatorService",
    "csp.commerce.v1.SubscriptionEventService",
];

/// The caller the interceptor verified.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    verified(request.extensions().get::<Caller>().copied())
}

/// The caller the interceptor attached, if it did.
pub fn verified(caller: Option<Caller>) -> Result<Caller, Status> {
    caller.ok_or_else(|| DomainError::Unauthenticated("no verified caller".into()).into())
}

/// Verifies the bearer token of every call and attaches the `Caller`; optionally requires a role,
/// counts the call against its service group's quotas, and limits failed authentications per
/// peer address.
#[derive(Clone)]
pub struct Authenticate {
    keys: Arc<TokenKeys>,
    required_role: Option<Role>,
    quotas: Option<Quotas>,
    failures: Option<Arc<FailedAuth>>,
}

impl std::fmt::Debug for Authenticate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticate")
            .field("required_role", &self.required_role)
            .field("quotas", &self.quotas)
            .field("failures", &self.failures.is_some())
            .finish()
    }
}

impl Authenticate {
    pub fn new(keys: Arc<TokenKeys>) -> Self {
        Self {
            keys,
            required_role: None,
            quotas: None,
            failures: None,
        }
    }

    pub fn requiring(keys: Arc<TokenKeys>, role: Role) -> Self {
        Self {
            required_role: Some(role),
            ..Self::new(keys)
        }
    }

    /// Counts every call against `quotas`.
    pub fn throttled(self, quotas: Quotas) -> Self {
        Self {
            quotas: Some(quotas),
            ..self
        }
    }

    /// Counts failed authentications per peer address against `failures`.
    pub fn limiting_failures(self, failures: Option<Arc<FailedAuth>>) -> Self {
        Self { failures, ..self }
    }

    /// Who the token speaks for: from the cache when verified before (so an honest caller
    /// behind a throttled address keeps working), else verified unless its address failed too
    /// often.
    fn authenticate(
        &self,
        peer: Option<IpAddr>,
        authorization: Option<&str>,
    ) -> Result<Authenticated, DomainError> {
        let token = crate::auth::bearer(authorization)?;
        if let Some(found) = self.keys.cached(token) {
            return Ok(found);
        }
        let limit = self.failures.as_deref().zip(peer);
        if let Some((failures, peer)) = limit {
            failures.check(peer)?;
        }
        self.keys.verify_new(token).inspect_err(|_| {
            if let Some((failures, peer)) = limit {
                failures.record(peer);
            }
        })
    }
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let peer = request.remote_addr().map(|a| a.ip());
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let Authenticated { caller, user } = self.authenticate(peer, header)?;
        if let Some(role) = self.required_role {
            caller.require(
                caller.role == role,
                &format!("call this service; it needs {}", role.as_str()),
            )?;
        }
        if let Some(quotas) = &self.quotas {
            quotas.check(caller.partner, user)?;
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// An etag field: empty means "whatever the current version".
pub fn optional_etag(etag: &str) -> Option<&str> {
    (!etag.is_empty()).then_some(etag)
}

/// Parses a UUID resource id.
pub fn parse_uuid(field: &str, value: &str) -> Result<uuid::Uuid, DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            "REQUIRED",
            format!("{field} is required"),
        ));
    }
    uuid::Uuid::parse_str(value)
        .map_err(|_| DomainError::invalid(field, "MALFORMED", format!("{field} must be a UUID")))
}

/// Refuses a repeated field with more than `max` entries, before any entry is parsed.
pub fn check_count(field: &str, len: usize, max: usize) -> Result<(), DomainError> {
    if len > max {
        return Err(DomainError::invalid(
            field,
            "TOO_MANY",
            format!(
                "{field} may have at most {max} entries, got {}",
                crate::domain::error::count(len)
            ),
        ));
    }
    Ok(())
}
