//! Pure types and rules of the business: no tonic, no SeaORM, no I/O.

pub mod cart;
pub mod catalog;
pub mod changes;
pub mod customer;
pub mod eligibility;
pub mod error;
pub mod ids;
pub mod money;
pub mod order;

pub use error::{DomainError, FieldViolation};
