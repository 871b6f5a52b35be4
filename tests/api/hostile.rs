//! The hostile-client suite: each attack of issue 17 replayed through the wire, with the
//! precise status it gets and an honest caller on another connection still served in time.

mod auth;
mod errors;
mod imports;
mod raw_h2;
mod streams;
mod tls;
mod transport;
