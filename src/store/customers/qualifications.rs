//! Customers' qualifications: a partner's submission or withdrawal, the operator's verdicts
//! (one qualification at a time, `change_qualification`), the demo seed's wholesale
//! replacement, and the operator's review queue across partners.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{load_for_update, to_domain};
use crate::domain::DomainError;
use crate::domain::customer::{
    Customer, Qualification, QualificationChange, QualificationDetails, QualificationKind,
    QualificationReview, VettingStatus,
};
use crate::domain::ids::{CustomerId, PartnerId};
use crate::store::entity::{customer, customer_qualification};
use crate::store::idempotency::WriteKey;
use crate::store::{Store, corrupt};

/// Where a page of the review queue ends: the last review's submission time, customer and
/// kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewKey {
    pub submitted_at: DateTime<Utc>,
    pub customer_id: CustomerId,
    pub kind: QualificationKind,
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

impl Store {
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

    /// A page of the qualifications in review across partners, oldest submission first (then
    /// by customer and kind: a stable order for submissions made at the same instant), after
    /// `after`. Every qualification in review has its submission time: a partner's submission
    /// sets it, so does `set_qualifications`, and m0012 filled it in for older rows.
    pub async fn qualification_reviews(
        &self,
        after: Option<&ReviewKey>,
        limit: u64,
    ) -> Result<Vec<QualificationReview>, DomainError> {
        use customer_qualification::Column;
        use sea_orm::Condition;
        let mut query = customer_qualification::Entity::find()
            .filter(Column::VettingStatus.eq(VettingStatus::InReview.as_str()))
            .order_by_asc(Column::SubmittedAt)
            .order_by_asc(Column::CustomerId)
            .order_by_asc(Column::Kind)
            .limit(limit);
        if let Some(after) = after {
            let (at, customer) = (after.submitted_at, after.customer_id.to_string());
            query = query.filter(
                Condition::any()
                    .add(Column::SubmittedAt.gt(at))
                    .add(
                        Condition::all()
                            .add(Column::SubmittedAt.eq(at))
                            .add(Column::CustomerId.gt(customer.clone())),
                    )
                    .add(
                        Condition::all()
                            .add(Column::SubmittedAt.eq(at))
                            .add(Column::CustomerId.eq(customer))
                            .add(Column::Kind.gt(after.kind.as_str())),
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
            let kept = customer
                .qualifications
                .iter()
                .find(|q| q.kind == change.kind && q.vetting == change.vetting);
            let updated_at = kept.map_or(now, |q| q.updated_at);
            // One in review waits in the operator's queue from then on.
            let submitted_at = (change.vetting == VettingStatus::InReview)
                .then(|| kept.and_then(|q| q.submitted_at).unwrap_or(updated_at));
            customer_qualification::Entity::insert(qualification_row(
                id,
                &Qualification {
                    kind: change.kind,
                    vetting: change.vetting,
                    updated_at,
                    details: QualificationDetails::default(),
                    submitted_at,
                    reviewed_at: None,
                    review_reason: None,
                },
            ))
            .exec_without_returning(&txn)
            .await?;
        }
        self.commit_change(txn, &customer, partner, now).await
    }
}
