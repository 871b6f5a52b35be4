//! The hostile-client suite: each attack of issue 17 replayed through the wire, with the
//! precise status it gets and an honest caller on another connection still served in time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "hostile/auth.rs"]
mod auth;
#[path = "hostile/errors.rs"]
mod errors;
#[path = "hostile/imports.rs"]
mod imports;
#[path = "hostile/raw_h2.rs"]
mod raw_h2;
#[path = "hostile/streams.rs"]
mod streams;
#[path = "hostile/tls.rs"]
mod tls;
#[path = "hostile/transport.rs"]
mod transport;
