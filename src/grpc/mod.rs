//! The gRPC edge: generated code, conversions, the one error mapping, thin handlers, caller
//! authentication, health and reflection.

pub mod admin;
pub mod cart;
pub mod catalog;
pub mod codec;
pub mod convert;
pub mod customer;
pub mod error;
pub mod order;
#[cfg(test)]
mod parse_props;
pub mod watch;
pub mod wire;

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::auth::TokenKeys;
use crate::domain::DomainError;
use crate::domain::customer::{Caller, Role};
use crate::domain::ids::PartnerId;

pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("csp.commerce.v1");
    // The servers, from the second pass of build.rs (messages are the ones above, but for the
    // answers of `super::wire`).
    include!(concat!(env!("OUT_DIR"), "/servers/csp.commerce.v1.rs"));
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("csp_commerce_descriptor");
}

/// Every service this binary serves, by its full gRPC name (for health).
pub const SERVICE_NAMES: &[&str] = &[
    "csp.commerce.v1.CatalogService",
    "csp.commerce.v1.CatalogAdminService",
    "csp.commerce.v1.CustomerService",
    "csp.commerce.v1.CartService",
    "csp.commerce.v1.OrderService",
];

/// The caller the interceptor verified.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    verified(request.extensions().get::<Caller>().copied())
}

/// The caller the interceptor attached, if it did.
pub fn verified(caller: Option<Caller>) -> Result<Caller, Status> {
    caller.ok_or_else(|| DomainError::Unauthenticated("no verified caller".into()).into())
}

/// Requests a minute per partner, shared by the services it is attached to.
pub type PartnerLimiter = governor::DefaultKeyedRateLimiter<PartnerId>;

/// A per-partner limit of `per_minute` calls (bursts up to a minute's worth); `None` for 0.
pub fn partner_limiter(per_minute: u32) -> Option<(Arc<PartnerLimiter>, u32)> {
    std::num::NonZeroU32::new(per_minute).map(|n| {
        let quota = governor::Quota::per_minute(n);
        (Arc::new(governor::RateLimiter::keyed(quota)), per_minute)
    })
}

/// Verifies the bearer token of every call and attaches the `Caller`; optionally requires a role
/// and counts the call against the partner's quota.
#[derive(Clone)]
pub struct Authenticate {
    keys: Arc<TokenKeys>,
    required_role: Option<Role>,
    limiter: Option<(Arc<PartnerLimiter>, u32)>,
}

impl std::fmt::Debug for Authenticate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticate")
            .field("required_role", &self.required_role)
            .field("limit", &self.limiter.as_ref().map(|l| l.1))
            .finish()
    }
}

impl Authenticate {
    pub fn new(keys: Arc<TokenKeys>) -> Self {
        Self {
            keys,
            required_role: None,
            limiter: None,
        }
    }

    pub fn requiring(keys: Arc<TokenKeys>, role: Role) -> Self {
        Self {
            required_role: Some(role),
            ..Self::new(keys)
        }
    }

    /// Counts every call against the caller's partner quota.
    pub fn throttled(self, limiter: Option<(Arc<PartnerLimiter>, u32)>) -> Self {
        Self { limiter, ..self }
    }
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let caller = self.keys.verify(header)?;
        if let Some(role) = self.required_role {
            caller.require(
                caller.role == role,
                &format!("call this service; it needs {}", role.as_str()),
            )?;
        }
        if let (Some((limiter, per_minute)), Some(partner)) = (&self.limiter, caller.partner)
            && let Err(not_until) = limiter.check_key(&partner)
        {
            use governor::clock::{Clock, DefaultClock};
            return Err(DomainError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
                limit: *per_minute,
            }
            .into());
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
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
