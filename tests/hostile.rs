//! The hostile-client suite: the attacks of issue 17 replayed through the wire, each with the precise status it must get.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "hostile/errors.rs"]
mod errors;
#[path = "hostile/tls.rs"]
mod tls;
