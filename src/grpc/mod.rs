//! The gRPC edge: generated code, conversions, the one error mapping, thin handlers, caller
//! authentication, health and reflection.

pub mod admin;
pub mod cart;
pub mod catalog;
pub mod convert;
pub mod customer;
pub mod error;
pub mod order;

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::auth::TokenKeys;
use crate::domain::DomainError;
use crate::domain::customer::{Caller, Role};

pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("csp.commerce.v1");
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
    request
        .extensions()
        .get::<Caller>()
        .copied()
        .ok_or_else(|| DomainError::Unauthenticated("no verified caller".into()).into())
}

/// Verifies the bearer token of every call and attaches the `Caller`; optionally requires a role.
#[derive(Debug, Clone)]
pub struct Authenticate {
    keys: Arc<TokenKeys>,
    required_role: Option<Role>,
}

impl Authenticate {
    pub fn new(keys: Arc<TokenKeys>) -> Self {
        Self {
            keys,
            required_role: None,
        }
    }

    pub fn requiring(keys: Arc<TokenKeys>, role: Role) -> Self {
        Self {
            keys,
            required_role: Some(role),
        }
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
