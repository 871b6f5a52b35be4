//! csp-commerce: the catalog, cart and order service of a CSP reseller, over gRPC.
//!
//! Layers (see ARCHITECTURE.md): `grpc` (wire) -> `service` (use cases) -> `domain` (rules)
//! and `store` (SeaORM). `import` reads the Partner Center file formats.

pub mod auth;
pub mod config;
pub mod demo;
pub mod domain;
pub mod grpc;
pub mod import;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
