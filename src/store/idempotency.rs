//! Request ids: a write's idempotency key, remembered per partner with the operation and a
//! fingerprint of the request, and the resource it produced.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::InsertStatement;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait};

use super::entity::idempotency_key;
use super::{Store, is_unique_violation};
use crate::domain::ids::{PartnerId, RequestId};
use crate::domain::{DomainError, FieldViolation};

/// One write's key.
#[derive(Debug, Clone)]
pub struct WriteKey<'a> {
    pub partner: PartnerId,
    pub request_id: &'a RequestId,
    pub operation: &'static str,
    /// Identifies the request body: the same request id with another body is refused.
    pub fingerprint: String,
}

/// Looks a key up: `Some(resource id)` when this very request was already done.
pub(super) async fn replay<C: ConnectionTrait>(
    db: &C,
    key: &WriteKey<'_>,
) -> Result<Option<String>, DomainError> {
    let Some(found) = idempotency_key::Entity::find_by_id((
        key.partner.to_string(),
        key.request_id.as_str().to_owned(),
    ))
    .one(db)
    .await?
    else {
        return Ok(None);
    };
    if found.operation != key.operation || found.fingerprint != key.fingerprint {
        return Err(DomainError::InvalidArgument(vec![FieldViolation::new(
            "request_id",
            "REQUEST_ID_REUSED",
            format!(
                "request id {:?} was already used for a different {} request; use a new request id",
                key.request_id.as_str(),
                found.operation
            ),
        )]));
    }
    Ok(Some(found.resource_id))
}

/// Records a key inside the write's transaction. `Ok(false)`: a concurrent request with the
/// same id got there first; roll back and replay.
pub(super) async fn record<C: ConnectionTrait>(
    db: &C,
    key: &WriteKey<'_>,
    resource_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    match db.execute(&record_statement(key, resource_id, now)).await {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The row that records a key for `resource_id`.
pub(super) fn record_row(
    key: &WriteKey<'_>,
    resource_id: &str,
    now: DateTime<Utc>,
) -> idempotency_key::ActiveModel {
    idempotency_key::ActiveModel {
        partner_id: Set(key.partner.to_string()),
        request_id: Set(key.request_id.as_str().to_owned()),
        operation: Set(key.operation.to_owned()),
        fingerprint: Set(key.fingerprint.clone()),
        resource_id: Set(resource_id.to_owned()),
        created_at: Set(now),
    }
}

/// The insert that records a key (it fails on a key already recorded).
pub(super) fn record_statement(
    key: &WriteKey<'_>,
    resource_id: &str,
    now: DateTime<Utc>,
) -> InsertStatement {
    idempotency_key::Entity::insert(record_row(key, resource_id, now)).into_query()
}

impl Store {
    /// The resource a finished request produced, if this request id was seen.
    pub async fn replayed(&self, key: &WriteKey<'_>) -> Result<Option<String>, DomainError> {
        replay(&self.engine.direct(), key).await
    }

    /// Forgets request ids older than `before` (they are kept at least 24 hours).
    pub async fn purge_request_ids(&self, before: DateTime<Utc>) -> Result<u64, DomainError> {
        let result = idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::CreatedAt.lt(before))
            .exec(self.engine.pool())
            .await?;
        Ok(result.rows_affected)
    }
}
