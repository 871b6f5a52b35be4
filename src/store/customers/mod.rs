//! Customers of one partner. Every query is scoped by the partner: another partner's customer
//! is indistinguishable from one that does not exist. Here: reading, creating and listing
//! them, and the profile's changes; their qualifications in `qualifications.rs`, their
//! standings as this process caches them in `standing.rs`.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::entity::{customer, customer_qualification};
use super::idempotency::{WriteKey, record, replay};
use super::{Store, corrupt};
use crate::domain::DomainError;
use crate::domain::customer::{
    Agreement, Customer, EducationSegment, NewCustomer, Qualification, QualificationDetails,
    QualificationKind, VettingStatus,
};
use crate::domain::ids::{CountryCode, CustomerId, PartnerId, RequestId};

mod qualifications;
mod standing;

pub use qualifications::{QualificationWrite, ReviewKey};

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
}
