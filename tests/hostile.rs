//! The hostile-client suite: each attack of issue 17 replayed through the wire, asserting the precise status and that an honest caller on another connection is still served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "hostile/imports.rs"]
mod imports;
