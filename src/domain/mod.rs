//! Pure types and rules of the business: no tonic, no SeaORM, no I/O.

pub mod catalog;
pub mod customer;
pub mod eligibility;
pub mod error;
pub mod ids;
pub mod money;

pub use error::{DomainError, FieldViolation};
