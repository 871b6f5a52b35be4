//! PostgreSQL: tells other replicas, right after the commit, what changed: whose cached
//! holdings are stale (see `standings.rs`), on [`HOLDINGS_CHANNEL`], and whose subscription
//! events were written (the event streams' pumps read them), on
//! `SUBSCRIPTION_EVENTS_CHANNEL`. Never a NOTIFY inside the writing transaction: PostgreSQL's
//! notification lock would serialize every commit through its WAL flush.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::standings::HOLDINGS_CHANNEL;
use crate::domain::ids::{CustomerId, PartnerId};
use crate::store::engine::Engine;

/// Items announced at most in one statement.
const ANNOUNCED_AT_ONCE: usize = 256;
/// How long an announcement waits for others to go with it: under load, one statement (one
/// commit, one wake-up of every listening replica) for the checkouts of a few milliseconds
/// instead of one for every one or two of them. Another replica hears of a change this much
/// later; its cached holdings never sell a seat twice meanwhile (checkout writes only at the
/// holdings version it planned on).
const ANNOUNCE_LINGER: std::time::Duration = std::time::Duration::from_millis(5);

/// PostgreSQL: announces changes of `T` to other replicas on one channel. What piles up
/// within [`ANNOUNCE_LINGER`] of the first goes in one statement, on a direct connection (the
/// pool would ping after it), as the payloads `payloads` makes of it (comma-separated).
#[derive(Debug)]
pub(in crate::store) struct Announcer<T>(tokio::sync::mpsc::UnboundedSender<T>);

impl<T> Clone for Announcer<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Holdings changes: a customer and its new holdings version, if known.
pub(in crate::store) type HoldingsAnnouncer = Announcer<(CustomerId, Option<i64>)>;

impl HoldingsAnnouncer {
    pub(in crate::store) fn holdings(engine: Engine) -> Self {
        Self::start(engine, HOLDINGS_CHANNEL, announcement)
    }

    /// Announces that what `id` holds changed, to `version` if known.
    pub(in crate::store) fn announce(&self, id: CustomerId, version: Option<i64>) {
        self.send((id, version));
    }
}

/// Partners whose subscription events were written.
pub(in crate::store) type EventsAnnouncer = Announcer<PartnerId>;

impl EventsAnnouncer {
    pub(in crate::store) fn events(engine: Engine, channel: &'static str) -> Self {
        Self::start(engine, channel, |partners| {
            partners.sort_unstable();
            partners.dedup();
            let payloads = partners
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            partners.clear();
            payloads
        })
    }
}

impl<T: Send + 'static> Announcer<T> {
    /// Announces on `channel` until every `Announcer` of it is dropped.
    fn start(engine: Engine, channel: &'static str, payloads: fn(&mut Vec<T>) -> String) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<T>();
        tokio::spawn(async move {
            let mut items = Vec::with_capacity(ANNOUNCED_AT_ONCE);
            while rx.recv_many(&mut items, ANNOUNCED_AT_ONCE).await > 0 {
                tokio::time::sleep(ANNOUNCE_LINGER).await;
                while items.len() < ANNOUNCED_AT_ONCE
                    && let Ok(item) = rx.try_recv()
                {
                    items.push(item);
                }
                let payloads = payloads(&mut items);
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, id) FROM unnest(string_to_array($2, ',')) AS id",
                    [channel.into(), payloads.into()],
                );
                if let Err(e) = engine.direct().execute_raw(statement).await {
                    tracing::warn!(error = %e, channel, "announcing changes to other replicas failed");
                }
            }
        });
        Self(tx)
    }

    pub(in crate::store) fn send(&self, item: T) {
        // Closed only when the task ended, which it does only once every sender is gone.
        let _ = self.0.send(item);
    }
}

/// The payloads of one announcement, `<customer id>[:<holdings version>]` joined by commas
/// (ids have none): each customer once, at the highest version announced for it, or without
/// one if any of its changes had none (a listener then takes every cached holdings of it as
/// stale). Empties `ids`.
fn announcement(ids: &mut Vec<(CustomerId, Option<i64>)>) -> String {
    // By customer, its highest version first; `None` (unknown) sorts last and is looked for.
    ids.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut payloads = String::new();
    let mut i = 0;
    while i < ids.len() {
        let id = ids[i].0;
        let same = ids[i..]
            .iter()
            .take_while(|(other, _)| *other == id)
            .count();
        let unknown = ids[i..i + same]
            .iter()
            .any(|(_, version)| version.is_none());
        if !payloads.is_empty() {
            payloads.push(',');
        }
        match ids[i].1.filter(|_| !unknown) {
            Some(version) => payloads.push_str(&format!("{id}:{version}")),
            None => payloads.push_str(&id.to_string()),
        }
        i += same;
    }
    ids.clear();
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_names_each_customer_once_at_its_highest_version() {
        let (a, b, c) = (CustomerId::new(), CustomerId::new(), CustomerId::new());
        let mut ids = vec![
            (b, Some(3)),
            (a, Some(7)),
            (c, Some(1)),
            (b, Some(5)),
            (a, Some(6)),
            (c, None),
            (b, Some(4)),
        ];
        let payloads = announcement(&mut ids);
        let mut got: Vec<&str> = payloads.split(',').collect();
        got.sort_unstable();
        let mut want = vec![format!("{a}:7"), format!("{b}:5"), c.to_string()];
        want.sort_unstable();
        assert_eq!(got, want);
        assert!(ids.is_empty());
    }
}
