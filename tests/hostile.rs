//! The hostile-client suite: each attack of issue 17 replayed through the wire, with the precise
//! status it gets and an honest caller still served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "hostile/auth.rs"]
mod auth;
mod common;
