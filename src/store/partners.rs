use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::Store;
use super::entity::partner;
use crate::domain::DomainError;
use crate::domain::customer::Partner;
use crate::domain::ids::{CountryCode, PartnerId};
use crate::domain::money::Currency;

fn to_domain(row: partner::Model) -> Result<Partner, DomainError> {
    let corrupt =
        |what: &str| DomainError::Internal(format!("partner {}: bad stored {what}", row.id));
    Ok(Partner {
        id: PartnerId::parse("id", &row.id).map_err(|_| corrupt("id"))?,
        name: row.name.clone(),
        country: CountryCode::parse("country", &row.country).map_err(|_| corrupt("country"))?,
        currency: Currency::parse("currency", &row.currency).map_err(|_| corrupt("currency"))?,
        gcc: row.gcc,
    })
}

impl Store {
    pub async fn partner(&self, id: PartnerId) -> Result<Option<Partner>, DomainError> {
        partner::Entity::find_by_id(id.to_string())
            .one(self.engine.pool())
            .await?
            .map(to_domain)
            .transpose()
    }

    pub async fn partner_by_key(&self, key: &str) -> Result<Option<Partner>, DomainError> {
        partner::Entity::find()
            .filter(partner::Column::Key.eq(key))
            .one(self.engine.pool())
            .await?
            .map(to_domain)
            .transpose()
    }

    pub async fn partner_count(&self) -> Result<u64, DomainError> {
        Ok(partner::Entity::find().count(self.engine.pool()).await?)
    }

    pub async fn insert_partner(&self, key: &str, p: &Partner) -> Result<(), DomainError> {
        partner::Entity::insert(partner::ActiveModel {
            id: Set(p.id.to_string()),
            key: Set(key.to_owned()),
            name: Set(p.name.clone()),
            country: Set(p.country.to_string()),
            currency: Set(p.currency.code().to_owned()),
            gcc: Set(p.gcc),
            created_at: Set(chrono::Utc::now()),
        })
        .exec(self.engine.pool())
        .await?;
        Ok(())
    }
}
