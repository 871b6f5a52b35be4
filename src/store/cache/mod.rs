//! What the store caches in the process, each cache with what invalidates it:
//! - `standings`: each customer's profile and holdings (with the `holdings_version` they were
//!   read at), for 30 s at most; forgotten after this process's profile writes and
//!   cancellations commit, brought forward by its checkouts, and, from other replicas, on
//!   PostgreSQL notifications (`announcer` sends the holdings ones).
//! - `carts`: carts at their version; never invalidated (a cart's content at a version never
//!   changes), forgotten when ordered or deleted; current (the stored cart) only when written
//!   by the database's only writer.
//!
//! - `partners`: each partner read (its GCC status), forgotten after this process's
//!   UpdatePartner and, from other replicas, on PostgreSQL notifications (a trigger's).
//!
//! Elsewhere: listings per catalog snapshot (`service/catalog.rs`, replaced with the snapshot), verified
//! tokens (`auth.rs`, until their `exp` or a key reload).

mod announcer;
mod carts;
mod partners;
mod standings;

pub(super) use announcer::{EventsAnnouncer, HoldingsAnnouncer};
pub(super) use carts::CachedCarts;
pub(super) use partners::{PARTNER_CHANNEL, Partners};
pub use standings::Standing;
pub(super) use standings::{CUSTOMER_CHANNEL, HOLDINGS_CHANNEL, Lookup, Standings};
