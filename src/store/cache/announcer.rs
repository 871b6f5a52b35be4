//! PostgreSQL: tells other replicas whose cached holdings are stale, right after the commit
//! (see `standings.rs`), on [`HOLDINGS_CHANNEL`].

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::standings::HOLDINGS_CHANNEL;
use crate::domain::ids::CustomerId;
use crate::store::engine::Engine;

/// Customers announced at most in one statement.
const ANNOUNCED_AT_ONCE: usize = 256;
/// How long an announcement waits for others to go with it: under load, one statement (one
/// commit, one wake-up of every listening replica) for the checkouts of a few milliseconds
/// instead of one for every one or two of them. Another replica hears of a change this much
/// later; its cached holdings never sell a seat twice meanwhile (checkout writes only at the
/// holdings version it planned on).
const ANNOUNCE_LINGER: std::time::Duration = std::time::Duration::from_millis(5);

/// PostgreSQL: announces holdings changes to other replicas on [`HOLDINGS_CHANNEL`]. What
/// piles up within [`ANNOUNCE_LINGER`] of the first goes in one statement, on a direct
/// connection (the pool would ping after it), each customer once.
#[derive(Debug, Clone)]
pub(in crate::store) struct Announcer(
    tokio::sync::mpsc::UnboundedSender<(CustomerId, Option<i64>)>,
);

impl Announcer {
    /// Announces until every `Announcer` of it is dropped.
    pub(in crate::store) fn start(engine: Engine) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(CustomerId, Option<i64>)>();
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(ANNOUNCED_AT_ONCE);
            while rx.recv_many(&mut ids, ANNOUNCED_AT_ONCE).await > 0 {
                tokio::time::sleep(ANNOUNCE_LINGER).await;
                while ids.len() < ANNOUNCED_AT_ONCE
                    && let Ok(id) = rx.try_recv()
                {
                    ids.push(id);
                }
                let payloads = announcement(&mut ids);
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, id) FROM unnest(string_to_array($2, ',')) AS id",
                    [HOLDINGS_CHANNEL.into(), payloads.into()],
                );
                if let Err(e) = engine.direct().execute_raw(statement).await {
                    tracing::warn!(error = %e, "announcing holdings changes to other replicas failed");
                }
            }
        });
        Self(tx)
    }

    /// Announces that what `id` holds changed, to `version` if known.
    pub(in crate::store) fn announce(&self, id: CustomerId, version: Option<i64>) {
        // Closed only when the task ended, which it does only once every sender is gone.
        let _ = self.0.send((id, version));
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
