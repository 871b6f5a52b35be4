//! Carts: every change is a conditional update on the cart's version, so a stale etag or a
//! concurrent writer is refused rather than overwritten.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::entity::{cart, cart_line};
use super::idempotency::{WriteKey, record, replay};
use super::{Store, corrupt, uuid};
use crate::domain::DomainError;
use crate::domain::cart::{Cart, CartLine, CartStatus, LineInput, ProvisioningContext, Scope};
use crate::domain::catalog::{BillingCycle, Term};
use crate::domain::ids::{
    AvailabilityId, CatalogItemId, CustomerId, PartnerId, ProductId, SkuId, SubscriptionId,
};

fn line_from_row(row: cart_line::Model) -> Result<CartLine, DomainError> {
    Ok(CartLine {
        id: uuid("line id", &row.id)?,
        input: LineInput {
            item: CatalogItemId {
                product: ProductId::parse("p", &row.product_id)
                    .map_err(|_| corrupt("product", &row.product_id))?,
                sku: SkuId::parse("s", &row.sku_id).map_err(|_| corrupt("sku", &row.sku_id))?,
                availability: AvailabilityId::parse("a", &row.availability_id)
                    .map_err(|_| corrupt("availability", &row.availability_id))?,
            },
            quantity: row.quantity,
            term: Term::from_db(&row.term)?,
            billing_cycle: BillingCycle::from_db(&row.billing_cycle)?,
            provisioning: ProvisioningContext {
                parent_subscription: row
                    .parent_subscription_id
                    .as_deref()
                    .map(|p| SubscriptionId::parse("parent", p).map_err(|_| corrupt("parent", p)))
                    .transpose()?,
                scope: row
                    .scope
                    .as_deref()
                    .map(|s| Scope::parse(s).ok_or_else(|| corrupt("scope", s)))
                    .transpose()?,
                azure_subscription_id: row
                    .azure_subscription_id
                    .as_deref()
                    .map(|a| uuid("azure subscription", a))
                    .transpose()?,
            },
        },
    })
}

fn line_row(cart_id: uuid::Uuid, position: i32, line: &CartLine) -> cart_line::ActiveModel {
    let input = &line.input;
    cart_line::ActiveModel {
        id: Set(line.id.to_string()),
        cart_id: Set(cart_id.to_string()),
        position: Set(position),
        product_id: Set(input.item.product.to_string()),
        sku_id: Set(input.item.sku.to_string()),
        availability_id: Set(input.item.availability.to_string()),
        quantity: Set(input.quantity),
        term: Set(input.term.as_str().to_owned()),
        billing_cycle: Set(input.billing_cycle.as_str().to_owned()),
        parent_subscription_id: Set(input
            .provisioning
            .parent_subscription
            .map(|p| p.to_string())),
        scope: Set(input.provisioning.scope.map(|s| s.as_str().to_owned())),
        azure_subscription_id: Set(input
            .provisioning
            .azure_subscription_id
            .map(|a| a.to_string())),
    }
}

pub(super) async fn load_cart<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    id: uuid::Uuid,
) -> Result<Option<Cart>, DomainError> {
    let Some(row) = cart::Entity::find_by_id(id.to_string())
        .filter(cart::Column::PartnerId.eq(partner.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let lines = cart_line::Entity::find()
        .filter(cart_line::Column::CartId.eq(id.to_string()))
        .order_by_asc(cart_line::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(line_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Cart {
        id,
        customer_id: CustomerId::parse("c", &row.customer_id)
            .map_err(|_| corrupt("customer", &row.customer_id))?,
        status: CartStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
        lines,
        created_at: row.created_at,
        expires_at: row.expires_at,
        version: row.version,
        order_id: row
            .order_id
            .as_deref()
            .map(|o| uuid("order id", o))
            .transpose()?,
    }))
}

/// A change to a cart's lines.
#[derive(Debug, Clone)]
pub enum LineChange {
    Add(CartLine),
    Update(CartLine),
    Remove(uuid::Uuid),
}

/// `cart` after `change` was stored and claimed it.
fn applied(cart: &Cart, change: &LineChange) -> Cart {
    let mut next = cart.clone();
    next.version += 1;
    match change {
        LineChange::Add(line) => next.lines.push(line.clone()),
        LineChange::Update(line) => {
            for existing in next.lines.iter_mut().filter(|l| l.id == line.id) {
                *existing = line.clone();
            }
        }
        LineChange::Remove(id) => next.lines.retain(|l| l.id != *id),
    }
    next
}

/// Bumps the version of an active, unexpired cart at `version`; false if it is not so anymore.
pub(super) async fn claim<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    cart_id: uuid::Uuid,
    version: i64,
    now: DateTime<Utc>,
    new_status: CartStatus,
    order_id: Option<uuid::Uuid>,
) -> Result<bool, DomainError> {
    let mut update = cart::Entity::update_many()
        .col_expr(
            cart::Column::Version,
            Expr::col(cart::Column::Version).add(1),
        )
        .col_expr(cart::Column::UpdatedAt, Expr::value(now))
        .col_expr(cart::Column::Status, Expr::value(new_status.as_str()));
    if let Some(order) = order_id {
        update = update.col_expr(cart::Column::OrderId, Expr::value(order.to_string()));
    }
    let result = update
        .filter(cart::Column::Id.eq(cart_id.to_string()))
        .filter(cart::Column::PartnerId.eq(partner.to_string()))
        .filter(cart::Column::Version.eq(version))
        .filter(cart::Column::Status.eq(CartStatus::Active.as_str()))
        .filter(cart::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

fn concurrent_change() -> DomainError {
    DomainError::Aborted {
        reason: "CONCURRENT_UPDATE",
        message:
            "the cart changed while this request ran: read it again and retry with its new etag"
                .into(),
    }
}

impl Store {
    pub async fn cart(
        &self,
        partner: PartnerId,
        id: uuid::Uuid,
    ) -> Result<Option<Cart>, DomainError> {
        load_cart(&self.db, partner, id).await
    }

    /// Creates a cart once per request id.
    pub async fn create_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        new: &Cart,
        now: DateTime<Utc>,
    ) -> Result<Cart, DomainError> {
        if let Some(existing) = replay(&self.db, key).await? {
            return self.replayed_cart(partner, &existing).await;
        }
        let turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        if !record(&txn, key, &new.id.to_string(), now).await? {
            drop(txn);
            drop(turn);
            return Box::pin(self.create_cart(partner, key, new, now)).await;
        }
        cart::Entity::insert(cart::ActiveModel {
            id: Set(new.id.to_string()),
            partner_id: Set(partner.to_string()),
            customer_id: Set(new.customer_id.to_string()),
            status: Set(CartStatus::Active.as_str().to_owned()),
            created_at: Set(new.created_at),
            expires_at: Set(new.expires_at),
            updated_at: Set(now),
            version: Set(new.version),
            order_id: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        insert_lines(&txn, new.id, 0, &new.lines).await?;
        txn.commit().await?;
        drop(turn);
        load_cart(&self.db, partner, new.id)
            .await?
            .ok_or_else(|| DomainError::Internal("cart vanished after insert".into()))
    }

    async fn replayed_cart(&self, partner: PartnerId, id: &str) -> Result<Cart, DomainError> {
        let id = uuid("cart id", id)?;
        load_cart(&self.db, partner, id)
            .await?
            .ok_or_else(|| DomainError::not_found("cart", id.to_string()))
    }

    /// Applies one line change to the cart at `version`, once per request id.
    pub async fn change_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        cart: &Cart,
        change: &LineChange,
        now: DateTime<Utc>,
    ) -> Result<Cart, DomainError> {
        if let Some(existing) = replay(&self.db, key).await? {
            return self.replayed_cart(partner, &existing).await;
        }
        let turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        if !claim(
            &txn,
            partner,
            cart.id,
            cart.version,
            now,
            CartStatus::Active,
            None,
        )
        .await?
        {
            return Err(concurrent_change());
        }
        if !record(&txn, key, &cart.id.to_string(), now).await? {
            drop(txn);
            drop(turn);
            return Box::pin(self.change_cart(partner, key, cart, change, now)).await;
        }
        match change {
            LineChange::Add(line) => {
                let next = cart_line::Entity::find()
                    .filter(cart_line::Column::CartId.eq(cart.id.to_string()))
                    .select_only()
                    .column_as(Expr::col(cart_line::Column::Position).max(), "max")
                    .into_tuple::<Option<i32>>()
                    .one(&txn)
                    .await?
                    .flatten()
                    .map_or(0, |m| m + 1);
                insert_lines(&txn, cart.id, next, std::slice::from_ref(line)).await?;
            }
            LineChange::Update(line) => {
                let input = &line.input;
                cart_line::Entity::update_many()
                    .col_expr(
                        cart_line::Column::ProductId,
                        Expr::value(input.item.product.to_string()),
                    )
                    .col_expr(
                        cart_line::Column::SkuId,
                        Expr::value(input.item.sku.to_string()),
                    )
                    .col_expr(
                        cart_line::Column::AvailabilityId,
                        Expr::value(input.item.availability.to_string()),
                    )
                    .col_expr(cart_line::Column::Quantity, Expr::value(input.quantity))
                    .col_expr(cart_line::Column::Term, Expr::value(input.term.as_str()))
                    .col_expr(
                        cart_line::Column::BillingCycle,
                        Expr::value(input.billing_cycle.as_str()),
                    )
                    .col_expr(
                        cart_line::Column::ParentSubscriptionId,
                        Expr::value(
                            input
                                .provisioning
                                .parent_subscription
                                .map(|p| p.to_string()),
                        ),
                    )
                    .col_expr(
                        cart_line::Column::Scope,
                        Expr::value(input.provisioning.scope.map(|s| s.as_str().to_owned())),
                    )
                    .col_expr(
                        cart_line::Column::AzureSubscriptionId,
                        Expr::value(
                            input
                                .provisioning
                                .azure_subscription_id
                                .map(|a| a.to_string()),
                        ),
                    )
                    .filter(cart_line::Column::Id.eq(line.id.to_string()))
                    .filter(cart_line::Column::CartId.eq(cart.id.to_string()))
                    .exec(&txn)
                    .await?;
            }
            LineChange::Remove(line_id) => {
                cart_line::Entity::delete_many()
                    .filter(cart_line::Column::Id.eq(line_id.to_string()))
                    .filter(cart_line::Column::CartId.eq(cart.id.to_string()))
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        drop(turn);
        // The claim at the version read proves the stored cart was `cart`: it is now `cart`
        // with the change, one version on.
        Ok(applied(cart, change))
    }

    /// Deletes an active cart at `version`.
    pub async fn delete_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        cart: &Cart,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if replay(&self.db, key).await?.is_some() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        if !record(&txn, key, &cart.id.to_string(), now).await? {
            return Ok(());
        }
        let deleted = cart::Entity::delete_many()
            .filter(cart::Column::Id.eq(cart.id.to_string()))
            .filter(cart::Column::PartnerId.eq(partner.to_string()))
            .filter(cart::Column::Version.eq(cart.version))
            .filter(cart::Column::Status.eq(CartStatus::Active.as_str()))
            .exec(&txn)
            .await?;
        if deleted.rows_affected != 1 {
            return Err(concurrent_change());
        }
        txn.commit().await?;
        Ok(())
    }

    /// A customer's active carts, oldest first, after `after`.
    pub async fn list_carts(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        after: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Vec<Cart>, DomainError> {
        let mut query = cart::Entity::find()
            .filter(cart::Column::PartnerId.eq(partner.to_string()))
            .filter(cart::Column::CustomerId.eq(customer.to_string()))
            .filter(cart::Column::Status.eq(CartStatus::Active.as_str()))
            .order_by_asc(cart::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(cart::Column::Id.gt(after.to_string()));
        }
        let ids: Vec<String> = query
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut carts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(cart) = load_cart(&self.db, partner, uuid("cart id", &id)?).await? {
                carts.push(cart);
            }
        }
        Ok(carts)
    }
}

async fn insert_lines(
    txn: &DatabaseTransaction,
    cart_id: uuid::Uuid,
    first_position: i32,
    lines: &[CartLine],
) -> Result<(), DomainError> {
    if lines.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| line_row(cart_id, first_position + i as i32, line))
        .collect();
    cart_line::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
