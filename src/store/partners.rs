//! Partners (the resellers): registered by the operator (or the demo seed), changed only by
//! the operator.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::entity::partner;
use super::idempotency::{WriteKey, record, replay};
use super::{Store, is_unique_violation};
use crate::domain::DomainError;
use crate::domain::customer::{Partner, PartnerRecord, PartnerUpdate};
use crate::domain::ids::{CountryCode, PartnerId};
use crate::domain::money::Currency;

fn to_record(row: partner::Model) -> Result<PartnerRecord, DomainError> {
    let corrupt =
        |what: &str| DomainError::Internal(format!("partner {}: bad stored {what}", row.id));
    Ok(PartnerRecord {
        partner: Partner {
            id: PartnerId::parse("id", &row.id).map_err(|_| corrupt("id"))?,
            name: row.name.clone(),
            country: CountryCode::parse("country", &row.country).map_err(|_| corrupt("country"))?,
            currency: Currency::parse("currency", &row.currency)
                .map_err(|_| corrupt("currency"))?,
            gcc: row.gcc,
        },
        key: row.key,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at.unwrap_or(row.created_at),
    })
}

async fn load<C: ConnectionTrait>(
    db: &C,
    id: PartnerId,
) -> Result<Option<PartnerRecord>, DomainError> {
    partner::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

fn row(key: &str, p: &Partner, now: DateTime<Utc>) -> partner::ActiveModel {
    partner::ActiveModel {
        id: Set(p.id.to_string()),
        key: Set(key.to_owned()),
        name: Set(p.name.clone()),
        country: Set(p.country.to_string()),
        currency: Set(p.currency.code().to_owned()),
        gcc: Set(p.gcc),
        created_at: Set(now),
        version: Set(1),
        updated_at: Set(None),
    }
}

impl Store {
    pub async fn partner(&self, id: PartnerId) -> Result<Option<Partner>, DomainError> {
        Ok(self.partner_record(id).await?.map(|r| r.partner))
    }

    /// The partner, from this process's cache after the first read (`cache/partners.rs`); an
    /// unknown partner is not cached, so it is read again until it is registered.
    pub async fn cached_partner(&self, id: PartnerId) -> Result<Option<Partner>, DomainError> {
        let ticket = match self.partners.get(id) {
            Ok(partner) => return Ok(Some(partner)),
            Err(ticket) => ticket,
        };
        let partner = self.partner(id).await?;
        if let Some(p) = &partner {
            self.partners.put(ticket, p.clone());
        }
        Ok(partner)
    }

    pub async fn partner_record(
        &self,
        id: PartnerId,
    ) -> Result<Option<PartnerRecord>, DomainError> {
        load(self.engine.pool(), id).await
    }

    pub async fn partner_by_key(&self, key: &str) -> Result<Option<PartnerRecord>, DomainError> {
        partner::Entity::find()
            .filter(partner::Column::Key.eq(key))
            .one(self.engine.pool())
            .await?
            .map(to_record)
            .transpose()
    }

    pub async fn partner_count(&self) -> Result<u64, DomainError> {
        Ok(partner::Entity::find().count(self.engine.pool()).await?)
    }

    /// The demo seed's partners.
    pub async fn insert_partner(&self, key: &str, p: &Partner) -> Result<(), DomainError> {
        partner::Entity::insert(row(key, p, Utc::now()))
            .exec(self.engine.pool())
            .await?;
        Ok(())
    }

    /// Registers a partner once per request id (`request`): a retry returns the first
    /// partner; a key already taken is ALREADY_EXISTS.
    pub async fn register_partner(
        &self,
        request: &WriteKey<'_>,
        key: &str,
        p: &Partner,
        now: DateTime<Utc>,
    ) -> Result<PartnerRecord, DomainError> {
        loop {
            if let Some(id) = replay(self.engine.pool(), request).await? {
                let id = PartnerId::parse("id", &id)
                    .map_err(|_| DomainError::Internal(format!("request id names {id}")))?;
                return self.existing_partner(id).await;
            }
            let txn = self.engine.pool().begin().await?;
            if !record(&txn, request, &p.id.to_string(), now).await? {
                // A concurrent retry won: answer as it did.
                continue;
            }
            match partner::Entity::insert(row(key, p, now))
                .exec_without_returning(&txn)
                .await
            {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(DomainError::AlreadyExists {
                        resource: "partner",
                        id: key.to_owned(),
                        message: "another partner has this key; choose another".into(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
            txn.commit().await?;
            return self.existing_partner(p.id).await;
        }
    }

    async fn existing_partner(&self, id: PartnerId) -> Result<PartnerRecord, DomainError> {
        self.partner_record(id)
            .await?
            .ok_or_else(|| DomainError::not_found("partner", id.to_string()))
    }

    /// A page of partners in id order, after `after`.
    pub async fn list_partners(
        &self,
        after: Option<PartnerId>,
        limit: u64,
    ) -> Result<Vec<PartnerRecord>, DomainError> {
        let mut query = partner::Entity::find()
            .order_by_asc(partner::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(partner::Column::Id.gt(after.to_string()));
        }
        query
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(to_record)
            .collect()
    }

    /// Changes a partner once per request id (a retry answers the partner as it is now), at
    /// `etag` when given. This process forgets the partner whatever the answer (a retry may
    /// have changed it); other replicas hear of the change from the database (m0011).
    pub async fn update_partner(
        &self,
        request: &WriteKey<'_>,
        id: PartnerId,
        etag: Option<&str>,
        update: &PartnerUpdate,
        now: DateTime<Utc>,
    ) -> Result<PartnerRecord, DomainError> {
        let updated = self.change_partner(request, id, etag, update, now).await;
        self.partners.forget(id);
        updated
    }

    async fn change_partner(
        &self,
        request: &WriteKey<'_>,
        id: PartnerId,
        etag: Option<&str>,
        update: &PartnerUpdate,
        now: DateTime<Utc>,
    ) -> Result<PartnerRecord, DomainError> {
        let txn = loop {
            if replay(self.engine.pool(), request).await?.is_some() {
                return self.existing_partner(id).await;
            }
            let txn = self.engine.pool().begin().await?;
            if record(&txn, request, &id.to_string(), now).await? {
                break txn;
            }
        };
        let current = load(&txn, id)
            .await?
            .ok_or_else(|| DomainError::not_found("partner", id.to_string()))?;
        if let Some(etag) = etag
            && etag != current.etag()
        {
            return Err(DomainError::stale_etag(
                "partner",
                Some(&current.etag()),
                Some(etag),
                "read it again",
            ));
        }
        let mut change = partner::Entity::update_many()
            .col_expr(
                partner::Column::Version,
                sea_orm::sea_query::Expr::value(current.version + 1),
            )
            .col_expr(
                partner::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(Some(now)),
            );
        if let Some(name) = &update.name {
            change = change.col_expr(
                partner::Column::Name,
                sea_orm::sea_query::Expr::value(name.clone()),
            );
        }
        if let Some(gcc) = update.gcc {
            change = change.col_expr(partner::Column::Gcc, sea_orm::sea_query::Expr::value(gcc));
        }
        let done = change
            .filter(partner::Column::Id.eq(id.to_string()))
            .filter(partner::Column::Version.eq(current.version))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(DomainError::stale_etag(
                "partner",
                None,
                etag,
                "read it again",
            ));
        }
        txn.commit().await?;
        self.existing_partner(id).await
    }
}
