//! Customer standings as this process caches them (`cache/standings.rs`): reading one, and
//! forgetting or bringing forward what a write changed.

use std::sync::Arc;
use std::time::Instant;

use super::load;
use crate::domain::DomainError;
use crate::domain::ids::{CustomerId, PartnerId};
use crate::store::Store;
use crate::store::cache::{Lookup, Standing};
use crate::store::orders::{CustomerHoldings, read_holdings};

impl Store {
    /// The customer of `partner` and what it holds, as this process caches it: read from the
    /// database only what this process has not read since it last changed.
    pub async fn standing(
        &self,
        partner: PartnerId,
        id: CustomerId,
    ) -> Result<Option<Arc<Standing>>, DomainError> {
        let (customer, held, read_at, ticket) = match self.standings.get(id) {
            // Cached by id: another partner's customer is as absent as a missing one.
            Lookup::Cached(cached) => {
                return Ok((cached.customer.partner_id == partner).then_some(cached));
            }
            Lookup::HoldingsStale { customer, .. } if customer.partner_id != partner => {
                return Ok(None);
            }
            Lookup::HoldingsStale {
                customer,
                read_at,
                ticket,
            } => (
                customer,
                read_holdings(&self.engine.direct(), id).await?,
                read_at,
                ticket,
            ),
            Lookup::Missing(ticket) => {
                let read_at = Instant::now();
                // What it holds is read alongside, and only returned once the customer is
                // known to be the partner's.
                let reads = self.engine.direct();
                let (customer, held) =
                    tokio::try_join!(load(&reads, partner, id), read_holdings(&reads, id))?;
                let Some(customer) = customer else {
                    return Ok(None);
                };
                (Arc::new(customer), held, read_at, ticket)
            }
        };
        let standing = Arc::new(Standing::new(customer, held));
        self.standings.put(ticket, standing.clone(), read_at);
        Ok(Some(standing))
    }

    /// What this process cached of the customer was found stale (a checkout's write found its
    /// profile or holdings moved on): forget it.
    pub fn forget_standing(&self, id: CustomerId) {
        self.customer_changed(id);
    }

    /// A change to the customer committed: what this process cached of it is stale.
    pub(in crate::store) fn customer_changed(&self, id: CustomerId) {
        self.standings.forget(id);
    }

    /// A change to what the customer holds committed: what this process cached of it is
    /// stale, and so is what other replicas cached. They are told right after the commit (not
    /// by a NOTIFY inside the transaction, see `cache/standings.rs`), by the announcer; if
    /// that fails, what they cached is stale for at most `MAX_AGE` (checkout writes only at
    /// the holdings version it planned on, so it never oversells on them).
    pub(in crate::store) fn holdings_changed(&self, id: CustomerId) {
        self.standings.holdings_announced(id, None);
        self.announce_holdings(id, None);
    }

    /// As `holdings_changed`, for a write of this process that moved the customer's holdings
    /// on from version `from` to `from + 1` (see `Standings::holdings_written`).
    pub(in crate::store) fn holdings_written(
        &self,
        id: CustomerId,
        from: i64,
        next: impl FnOnce(&CustomerHoldings) -> CustomerHoldings,
    ) {
        self.standings.holdings_written(id, from, next);
        self.announce_holdings(id, Some(from + 1));
    }

    fn announce_holdings(&self, id: CustomerId, version: Option<i64>) {
        if let Some(announcer) = &self.announcer {
            announcer.announce(id, version);
        }
    }
}
