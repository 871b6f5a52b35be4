//! Customers of one partner. Every query is scoped by the partner: another partner's customer
//! is indistinguishable from one that does not exist.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::cache::{Lookup, Standing};
use super::entity::{customer, customer_qualification};
use super::idempotency::{WriteKey, record, replay};
use super::orders::{CustomerHoldings, read_holdings};
use super::{Store, corrupt};
use crate::domain::DomainError;
use crate::domain::customer::{
    Agreement, Customer, EducationSegment, NewCustomer, Qualification, QualificationChange,
    QualificationDetails, QualificationKind, QualificationReview, VettingStatus,
};
use crate::domain::ids::{CountryCode, CustomerId, PartnerId, RequestId};

fn to_domain(
    row: customer::Model,
    quals: Vec<customer_qualification::Model>,
) -> Result<Customer, DomainError> {
    let mut qualifications = quals
        .into_iter()
        .map(|q| {
            Ok(Qualification {
                kind: QualificationKind::parse(&q.kind)
                    .ok_or_else(|| corrupt("qualification", &q.kind))?,
                vetting: VettingStatus::parse(&q.vetting_status)
                    .ok_or_else(|| corrupt("vetting", &q.vetting_status))?,
                updated_at: q.updated_at,
                details: QualificationDetails {
                    education_segment: q
                        .education_segment
                        .as_deref()
                        .map(|s| EducationSegment::parse(s).ok_or_else(|| corrupt("segment", s)))
                        .transpose()?,
                    gcc_validation_code: q.gcc_validation_code,
                },
                submitted_at: q.submitted_at,
                reviewed_at: q.reviewed_at,
                review_reason: q.review_reason,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    qualifications.sort_by_key(|q| q.kind);
    let agreement = match (
        row.agreement_contact_name,
        row.agreement_contact_email,
        row.agreement_accepted_at,
    ) {
        (Some(contact_name), Some(contact_email), Some(accepted_at)) => Some(Agreement {
            contact_name,
            contact_email,
            accepted_at,
        }),
        _ => None,
    };
    Ok(Customer {
        id: CustomerId::parse("id", &row.id).map_err(|_| corrupt("id", &row.id))?,
        partner_id: PartnerId::parse("partner_id", &row.partner_id)
            .map_err(|_| corrupt("partner", &row.partner_id))?,
        company_name: row.company_name,
        country: CountryCode::parse("country", &row.country)
            .map_err(|_| corrupt("country", &row.country))?,
        email: row.email,
        domain: row.domain,
        qualifications,
        agreement,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

async fn load<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    id: CustomerId,
) -> Result<Option<Customer>, DomainError> {
    load_scoped(db, Some(partner), id).await
}

/// The customer `id`, of `partner` when given (`None`: the operator's, of any partner).
async fn load_scoped<C: ConnectionTrait>(
    db: &C,
    partner: Option<PartnerId>,
    id: CustomerId,
) -> Result<Option<Customer>, DomainError> {
    let mut query = customer::Entity::find_by_id(id.to_string());
    if let Some(partner) = partner {
        query = query.filter(customer::Column::PartnerId.eq(partner.to_string()));
    }
    let Some(row) = query.one(db).await? else {
        return Ok(None);
    };
    let quals = customer_qualification::Entity::find()
        .filter(customer_qualification::Column::CustomerId.eq(id.to_string()))
        .all(db)
        .await?;
    to_domain(row, quals).map(Some)
}

/// Loads a customer for a change: present, the caller's, and at the expected etag.
async fn load_for_update<C: ConnectionTrait>(
    db: &C,
    partner: impl Into<Option<PartnerId>>,
    id: CustomerId,
    etag: Option<&str>,
) -> Result<Customer, DomainError> {
    let customer = load_scoped(db, partner.into(), id)
        .await?
        .ok_or_else(|| DomainError::not_found("customer", id.to_string()))?;
    if let Some(etag) = etag
        && etag != customer.etag()
    {
        return Err(DomainError::stale_etag(
            CustomerId::RESOURCE,
            Some(&customer.etag()),
            Some(etag),
            "read it again",
        ));
    }
    Ok(customer)
}

/// The stored row of qualification `q` of customer `id`.
fn qualification_row(id: CustomerId, q: &Qualification) -> customer_qualification::ActiveModel {
    customer_qualification::ActiveModel {
        customer_id: Set(id.to_string()),
        kind: Set(q.kind.as_str().to_owned()),
        vetting_status: Set(q.vetting.as_str().to_owned()),
        updated_at: Set(q.updated_at),
        education_segment: Set(q.details.education_segment.map(|s| s.as_str().to_owned())),
        gcc_validation_code: Set(q.details.gcc_validation_code.clone()),
        submitted_at: Set(q.submitted_at),
        reviewed_at: Set(q.reviewed_at),
        review_reason: Set(q.review_reason.clone()),
    }
}

/// What a qualification change writes.
#[derive(Debug, Clone)]
pub enum QualificationWrite {
    /// The qualification of its kind, as it is now.
    Put(Qualification),
    Remove(QualificationKind),
}

/// Bumps the version only if nobody else did since we read it.
async fn bump_version<C: ConnectionTrait>(
    db: &C,
    customer: &Customer,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let result = customer::Entity::update_many()
        .col_expr(
            customer::Column::Version,
            sea_orm::sea_query::Expr::value(customer.version + 1),
        )
        .col_expr(
            customer::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(customer::Column::Id.eq(customer.id.to_string()))
        .filter(customer::Column::Version.eq(customer.version))
        .exec(db)
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(DomainError::Aborted {
            reason: "CONCURRENT_UPDATE",
            current_etag: None,
            message: "the customer was changed concurrently: read it again".into(),
        })
    }
}

impl Store {
    pub async fn customer(
        &self,
        partner: PartnerId,
        id: CustomerId,
    ) -> Result<Option<Customer>, DomainError> {
        load(&self.engine.direct(), partner, id).await
    }

    /// Customer `id` of `partner` (`None`: of any partner) as stored now, or NOT_FOUND.
    async fn existing_customer(
        &self,
        partner: impl Into<Option<PartnerId>>,
        id: CustomerId,
    ) -> Result<Customer, DomainError> {
        load_scoped(&self.engine.direct(), partner.into(), id)
            .await?
            .ok_or_else(|| DomainError::not_found("customer", id.to_string()))
    }

    /// Creates a customer once per request id: a retry returns the first customer; the same
    /// request id with other data is refused.
    pub async fn create_customer(
        &self,
        partner: PartnerId,
        request_id: &RequestId,
        new: &NewCustomer,
        id: CustomerId,
        now: DateTime<Utc>,
    ) -> Result<Customer, DomainError> {
        let key = WriteKey {
            partner,
            request_id,
            operation: "CreateCustomer",
            fingerprint: new.fingerprint(),
        };
        if let Some(existing) = replay(&self.engine.direct(), &key).await? {
            let id = CustomerId::parse("id", &existing).map_err(|_| corrupt("id", &existing))?;
            return load(&self.engine.direct(), partner, id)
                .await?
                .ok_or_else(|| {
                    DomainError::Internal(format!(
                        "idempotency key points at missing customer {id}"
                    ))
                });
        }
        let txn = self.engine.pool().begin().await?;
        if !record(&txn, &key, &id.to_string(), now).await? {
            // A concurrent retry won: answer as it did.
            drop(txn);
            return Box::pin(self.create_customer(partner, request_id, new, id, now)).await;
        }
        customer::Entity::insert(customer::ActiveModel {
            id: Set(id.to_string()),
            partner_id: Set(partner.to_string()),
            company_name: Set(new.company_name.clone()),
            country: Set(new.country.to_string()),
            email: Set(new.email.clone()),
            domain: Set(new.domain.clone()),
            agreement_contact_name: Set(None),
            agreement_contact_email: Set(None),
            agreement_accepted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            holdings_version: Set(0),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        load(&self.engine.direct(), partner, id)
            .await?
            .ok_or_else(|| DomainError::Internal("customer vanished after insert".into()))
    }

    /// A page of the partner's customers, in id (creation) order, after `after`.
    pub async fn list_customers(
        &self,
        partner: PartnerId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<Customer>, DomainError> {
        let mut query = customer::Entity::find()
            .filter(customer::Column::PartnerId.eq(partner.to_string()))
            .order_by_asc(customer::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(customer::Column::Id.gt(after.to_string()));
        }
        let rows = query.all(self.engine.pool()).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut quals = customer_qualification::Entity::find()
            .filter(customer_qualification::Column::CustomerId.is_in(ids))
            .all(self.engine.pool())
            .await?;
        rows.into_iter()
            .map(|row| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    quals.drain(..).partition(|q| q.customer_id == row.id);
                quals = rest;
                to_domain(row, mine)
            })
            .collect()
    }

    /// Opens the transaction of a change to customer `id`, holding its request id (`key`);
    /// `None` when this very request was already done.
    async fn begin_change(
        &self,
        key: Option<&WriteKey<'_>>,
        id: CustomerId,
        now: DateTime<Utc>,
    ) -> Result<Option<DatabaseTransaction>, DomainError> {
        let Some(key) = key else {
            return Ok(Some(self.engine.pool().begin().await?));
        };
        loop {
            if replay(&self.engine.direct(), key).await?.is_some() {
                return Ok(None);
            }
            let txn = self.engine.pool().begin().await?;
            // Held before the etag check: a retry racing its first attempt waits for it.
            if record(&txn, key, &id.to_string(), now).await? {
                return Ok(Some(txn));
            }
            // A concurrent request with the same id got there first: replay it.
            drop(txn);
        }
    }

    /// Ends a change to `customer` (of `partner`, or any partner: `None`): bumps its version
    /// (every replica hears of it, and a checkout planned before it is refused), commits,
    /// forgets what this process cached, and answers the customer as stored now.
    async fn commit_change(
        &self,
        txn: DatabaseTransaction,
        customer: &Customer,
        partner: impl Into<Option<PartnerId>>,
        now: DateTime<Utc>,
    ) -> Result<Customer, DomainError> {
        bump_version(&txn, customer, now).await?;
        txn.commit().await?;
        self.customer_changed(customer.id);
        self.existing_customer(partner, customer.id).await
    }

    /// Changes one qualification of customer `id` (of `partner`, or of any partner for the
    /// operator: `None`), once per request id (a retry returns the customer as it is), at
    /// `etag` when given: `judge` (the domain's rule) says what it becomes, seeing the customer
    /// as it is inside the transaction. Bumps the customer's version, so every replica hears of
    /// it (PostgreSQL's trigger, m0006) and a checkout planned before it is refused.
    pub async fn change_qualification(
        &self,
        partner: Option<PartnerId>,
        key: Option<&WriteKey<'_>>,
        id: CustomerId,
        etag: Option<&str>,
        now: DateTime<Utc>,
        judge: impl FnOnce(&Customer) -> Result<QualificationWrite, DomainError>,
    ) -> Result<Customer, DomainError> {
        let Some(txn) = self.begin_change(key, id, now).await? else {
            return self.existing_customer(partner, id).await;
        };
        let customer = load_for_update(&txn, partner, id, etag).await?;
        let (kind, written) = match judge(&customer)? {
            QualificationWrite::Put(q) => (q.kind, Some(q)),
            QualificationWrite::Remove(kind) => (kind, None),
        };
        customer_qualification::Entity::delete_many()
            .filter(customer_qualification::Column::CustomerId.eq(id.to_string()))
            .filter(customer_qualification::Column::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
        if let Some(q) = &written {
            customer_qualification::Entity::insert(qualification_row(id, q))
                .exec_without_returning(&txn)
                .await?;
        }
        self.commit_change(txn, &customer, partner, now).await
    }

    /// A page of the qualifications in review across partners, in (customer, kind) order,
    /// after `after`.
    pub async fn qualification_reviews(
        &self,
        after: Option<(CustomerId, QualificationKind)>,
        limit: u64,
    ) -> Result<Vec<QualificationReview>, DomainError> {
        use sea_orm::Condition;
        let mut query = customer_qualification::Entity::find()
            .filter(
                customer_qualification::Column::VettingStatus.eq(VettingStatus::InReview.as_str()),
            )
            .order_by_asc(customer_qualification::Column::CustomerId)
            .order_by_asc(customer_qualification::Column::Kind)
            .limit(limit);
        if let Some((customer, kind)) = after {
            query = query.filter(
                Condition::any()
                    .add(customer_qualification::Column::CustomerId.gt(customer.to_string()))
                    .add(
                        Condition::all()
                            .add(
                                customer_qualification::Column::CustomerId.eq(customer.to_string()),
                            )
                            .add(customer_qualification::Column::Kind.gt(kind.as_str())),
                    ),
            );
        }
        let rows = query.all(self.engine.pool()).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.customer_id.clone()).collect();
        let customers = customer::Entity::find()
            .filter(customer::Column::Id.is_in(ids))
            .all(self.engine.pool())
            .await?;
        rows.into_iter()
            .map(|row| {
                let c = customers
                    .iter()
                    .find(|c| c.id == row.customer_id)
                    .ok_or_else(|| corrupt("qualification's customer", &row.customer_id))?;
                let customer = to_domain(c.clone(), vec![row])?;
                let qualification = customer
                    .qualifications
                    .first()
                    .cloned()
                    .ok_or_else(|| corrupt("qualification", &customer.id.to_string()))?;
                Ok(QualificationReview {
                    partner_id: customer.partner_id,
                    customer_id: customer.id,
                    company_name: customer.company_name,
                    customer_country: customer.country,
                    qualification,
                })
            })
            .collect()
    }

    /// Replaces the qualifications with approved (or other) ones, no questions asked: the demo
    /// seed's, as if the operator had vetted them.
    pub async fn set_qualifications(
        &self,
        partner: PartnerId,
        key: Option<&WriteKey<'_>>,
        id: CustomerId,
        etag: Option<&str>,
        changes: &[QualificationChange],
        now: DateTime<Utc>,
    ) -> Result<Customer, DomainError> {
        let Some(txn) = self.begin_change(key, id, now).await? else {
            return self.existing_customer(partner, id).await;
        };
        let customer = load_for_update(&txn, partner, id, etag).await?;
        customer_qualification::Entity::delete_many()
            .filter(customer_qualification::Column::CustomerId.eq(id.to_string()))
            .exec(&txn)
            .await?;
        for change in changes {
            // Keep the vetting time of a qualification whose status did not change.
            let updated_at = customer
                .qualifications
                .iter()
                .find(|q| q.kind == change.kind && q.vetting == change.vetting)
                .map_or(now, |q| q.updated_at);
            customer_qualification::Entity::insert(qualification_row(
                id,
                &Qualification {
                    kind: change.kind,
                    vetting: change.vetting,
                    updated_at,
                    details: QualificationDetails::default(),
                    submitted_at: None,
                    reviewed_at: None,
                    review_reason: None,
                },
            ))
            .exec_without_returning(&txn)
            .await?;
        }
        self.commit_change(txn, &customer, partner, now).await
    }

    /// Records the agreement, once per request id: a retry returns the customer as it is.
    pub async fn accept_agreement(
        &self,
        partner: PartnerId,
        key: Option<&WriteKey<'_>>,
        id: CustomerId,
        etag: Option<&str>,
        agreement: &Agreement,
        now: DateTime<Utc>,
    ) -> Result<Customer, DomainError> {
        let Some(txn) = self.begin_change(key, id, now).await? else {
            return self.existing_customer(partner, id).await;
        };
        let customer = load_for_update(&txn, partner, id, etag).await?;
        customer::Entity::update_many()
            .col_expr(
                customer::Column::AgreementContactName,
                sea_orm::sea_query::Expr::value(agreement.contact_name.clone()),
            )
            .col_expr(
                customer::Column::AgreementContactEmail,
                sea_orm::sea_query::Expr::value(agreement.contact_email.clone()),
            )
            .col_expr(
                customer::Column::AgreementAcceptedAt,
                sea_orm::sea_query::Expr::value(agreement.accepted_at),
            )
            .filter(customer::Column::Id.eq(id.to_string()))
            .exec(&txn)
            .await?;
        self.commit_change(txn, &customer, partner, now).await
    }

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
    pub(super) fn customer_changed(&self, id: CustomerId) {
        self.standings.forget(id);
    }

    /// A change to what the customer holds committed: what this process cached of it is
    /// stale, and so is what other replicas cached. They are told right after the commit (not
    /// by a NOTIFY inside the transaction, see `cache/standings.rs`), by the announcer; if
    /// that fails, what they cached is stale for at most `MAX_AGE` (checkout writes only at
    /// the holdings version it planned on, so it never oversells on them).
    pub(super) fn holdings_changed(&self, id: CustomerId) {
        self.standings.holdings_announced(id, None);
        self.announce_holdings(id, None);
    }

    /// As `holdings_changed`, for a write of this process that moved the customer's holdings
    /// on from version `from` to `from + 1` (see `Standings::holdings_written`).
    pub(super) fn holdings_written(
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
