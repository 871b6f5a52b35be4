//! Carts: every change is a conditional update on the cart's version, so a stale etag or a
//! concurrent writer is refused rather than overwritten.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::sea_query::{QueryStatementBuilder, UpdateStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic,
    Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};

use super::engine::{GuardedWrite, Insert, Outcome};
use super::entity::{cart, cart_line};
use super::idempotency::{WriteKey, record, record_row, replay};
use super::{Store, corrupt, uuid};
use crate::domain::DomainError;
use crate::domain::cart::{
    Cart, CartLine, CartStatus, LineChange, LineInput, ProvisioningContext, Scope,
};
use crate::domain::catalog::{BillingCycle, Term};
use crate::domain::ids::{
    AvailabilityId, CartId, CatalogItemId, CustomerId, OrderId, PartnerId, ProductId, SkuId,
    SubscriptionId,
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

fn line_row(cart_id: CartId, position: i32, line: &CartLine) -> cart_line::ActiveModel {
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

/// Selects every column of `E`, named `<prefix><column>`.
fn prefixed<E: EntityTrait>(select: &mut SelectStatement, entity: E, prefix: &str) {
    for column in E::Column::iter() {
        select.expr_as(
            Expr::col((entity, column)),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

/// A cart of `partner` with its lines, in one statement.
pub(super) async fn load_cart<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    id: CartId,
) -> Result<Option<Cart>, DomainError> {
    let mut select = Query::select();
    prefixed(&mut select, cart::Entity, "c_");
    prefixed(&mut select, cart_line::Entity, "l_");
    select
        .from(cart::Entity)
        .left_join(
            cart_line::Entity,
            Expr::col((cart_line::Entity, cart_line::Column::CartId))
                .equals((cart::Entity, cart::Column::Id)),
        )
        .and_where(Expr::col((cart::Entity, cart::Column::Id)).eq(id.to_string()))
        .and_where(Expr::col((cart::Entity, cart::Column::PartnerId)).eq(partner.to_string()))
        .order_by((cart_line::Entity, cart_line::Column::Position), Order::Asc);
    let rows = db.query_all(&select).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let row = cart::Model::from_query_result(first, "c_")?;
    let lines = rows
        .iter()
        .map(|r| cart_line::Model::from_query_result_optional(r, "l_"))
        .filter_map(Result::transpose)
        .map(|line| line.map_err(DomainError::from).and_then(line_from_row))
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
            .map(|o| uuid("order id", o).map(OrderId::from))
            .transpose()?,
    }))
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

/// Bumps the version of an active, unexpired cart at `version` (and sets its status and order).
pub(super) fn claim_statement(
    partner: PartnerId,
    cart_id: CartId,
    version: i64,
    now: DateTime<Utc>,
    new_status: CartStatus,
    order_id: Option<OrderId>,
) -> UpdateStatement {
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
    update
        .filter(cart::Column::Id.eq(cart_id.to_string()))
        .filter(cart::Column::PartnerId.eq(partner.to_string()))
        .filter(cart::Column::Version.eq(version))
        .filter(cart::Column::Status.eq(CartStatus::Active.as_str()))
        .filter(cart::Column::ExpiresAt.gt(now))
        .into_query()
}

fn concurrent_change() -> DomainError {
    DomainError::Aborted {
        reason: "CONCURRENT_UPDATE",
        current_etag: None,
        message:
            "the cart changed while this request ran: read it again and retry with its new etag"
                .into(),
    }
}

impl Store {
    /// Cart `id` of `partner` as stored: the cart cached current, if it is (see
    /// `cache/carts.rs`), else read.
    pub async fn cart(&self, partner: PartnerId, id: CartId) -> Result<Option<Cart>, DomainError> {
        if let Some(cart) = self.carts.current(partner, id) {
            return Ok(Some(cart));
        }
        let cart = load_cart(&self.engine.direct(), partner, id).await?;
        if let Some(cart) = &cart {
            self.carts.read(partner, cart);
        }
        Ok(cart)
    }

    /// Cart `id` of `partner`, taken from the cache when it is cached at `version` (the
    /// version a write's etag names; see `cache/carts.rs`), else read.
    pub async fn cart_at(
        &self,
        partner: PartnerId,
        id: CartId,
        version: Option<i64>,
    ) -> Result<Option<Cart>, DomainError> {
        if let Some(cart) = version.and_then(|v| self.carts.at_version(partner, id, v)) {
            return Ok(Some(cart));
        }
        self.cart(partner, id).await
    }

    /// Creates a cart once per request id. The answer is `new` as written (the clock gives
    /// microseconds, which both backends keep exactly).
    pub async fn create_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        new: &Cart,
        now: DateTime<Utc>,
    ) -> Result<Cart, DomainError> {
        let row = cart::ActiveModel {
            id: Set(new.id.to_string()),
            partner_id: Set(partner.to_string()),
            customer_id: Set(new.customer_id.to_string()),
            status: Set(CartStatus::Active.as_str().to_owned()),
            created_at: Set(new.created_at),
            expires_at: Set(new.expires_at),
            updated_at: Set(now),
            version: Set(new.version),
            order_id: Set(None),
        };
        // The key, the cart and its lines, or nothing.
        let mut write = GuardedWrite::default();
        write
            .insert(Insert::row(&record_row(key, &new.id.to_string(), now)))
            .insert(Insert::row(&row))
            .insert(Insert::rows(
                new.lines
                    .iter()
                    .enumerate()
                    .map(|(i, line)| line_row(new.id, i as i32, line)),
            )?);
        self.cache_after_commit(&mut write, partner, new.clone());
        match self.engine.write(write).await? {
            Outcome::Written => Ok(new.clone()),
            Outcome::Refused => self.replayed_cart(partner, key).await,
        }
    }

    /// The cart a request that was refused on its key made (or the key's reuse error).
    async fn replayed_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
    ) -> Result<Cart, DomainError> {
        let Some(id) = replay(&self.engine.direct(), key).await? else {
            return Err(concurrent_change());
        };
        let id = CartId::from(uuid("cart id", &id)?);
        load_cart(&self.engine.direct(), partner, id)
            .await?
            .ok_or_else(|| DomainError::not_found("cart", id.to_string()))
    }

    /// Applies one line change to the cart at `version`, once per request id: the claim of
    /// the cart at its version, the key and the change are written together or not at all.
    /// A refused write is a retry (answered with the cart as it is) or a concurrent change.
    pub async fn change_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        cart: &Cart,
        change: &LineChange,
        now: DateTime<Utc>,
    ) -> Result<Cart, DomainError> {
        // The claim of the cart at its version, then the key and the change.
        let mut write = GuardedWrite::default();
        write
            .update(
                claim_statement(
                    partner,
                    cart.id,
                    cart.version,
                    now,
                    CartStatus::Active,
                    None,
                ),
                1,
            )
            .insert(Insert::row(&record_row(key, &cart.id.to_string(), now)));
        match change {
            LineChange::Add(line) => {
                write.insert(added_line(cart.id, line));
            }
            LineChange::Update(line) => {
                write.update(updated_line(cart.id, line), 1);
            }
            LineChange::Remove(line_id) => {
                write.delete(removed_line(cart.id, *line_id), 1);
            }
        }
        // The claim at the version read proves the stored cart was `cart`: it is now `cart`
        // with the change, one version on.
        let changed = applied(cart, change);
        self.cache_after_commit(&mut write, partner, changed.clone());
        match self.engine.write(write).await? {
            Outcome::Written => Ok(changed),
            Outcome::Refused => {
                // The cart moved on (here or on another replica): read it next time.
                self.carts.forget(cart.id);
                self.replayed_cart(partner, key).await
            }
        }
    }

    /// Deletes an active cart at `version`.
    pub async fn delete_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        cart: &Cart,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if replay(&self.engine.direct(), key).await?.is_some() {
            return Ok(());
        }
        // Not current from here on (the delete goes through the pool, not the writer): a
        // caller that goes away after the commit leaves nothing deleted cached.
        self.carts.forget(cart.id);
        let _turn = self.engine.write_turn().await;
        let txn = self.engine.pool().begin().await?;
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
        self.carts.forget(cart.id);
        Ok(())
    }

    /// Once `write` commits, `cart` is cached as this process committed it.
    fn cache_after_commit(&self, write: &mut GuardedWrite, partner: PartnerId, cart: Cart) {
        let carts = self.carts.clone();
        write.after_commit(move || carts.committed(partner, cart));
    }

    /// A customer's active carts, oldest first, after `after`.
    pub async fn list_carts(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        after: Option<CartId>,
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
            .all(self.engine.pool())
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut carts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(cart) =
                load_cart(&self.engine.direct(), partner, uuid("cart id", &id)?.into()).await?
            {
                carts.push(cart);
            }
        }
        Ok(carts)
    }
}

/// The insert of `line` after the last line of cart `cart_id`.
fn added_line(cart_id: CartId, line: &CartLine) -> Insert {
    let mut row = line_row(cart_id, 0, line);
    row.position = NotSet;
    let next_position = Query::select()
        .expr(
            Expr::expr(Func::coalesce([
                Expr::col(cart_line::Column::Position).max(),
                Expr::val(-1),
            ]))
            .add(1),
        )
        .from(cart_line::Entity)
        .and_where(cart_line::Column::CartId.eq(cart_id.to_string()))
        .to_owned();
    Insert::row(&row).computed(
        cart_line::Column::Position,
        Expr::SubQuery(None, Box::new(next_position.into_sub_query_statement())),
    )
}

/// The update of `line` of cart `cart_id` (all but its id, cart and position).
fn updated_line(cart_id: CartId, line: &CartLine) -> UpdateStatement {
    let row = line_row(cart_id, 0, line);
    let mut update = cart_line::Entity::update_many();
    for column in cart_line::Column::iter().filter(|c| {
        !matches!(
            c,
            cart_line::Column::Id | cart_line::Column::CartId | cart_line::Column::Position
        )
    }) {
        if let Some(value) = row.get(column).into_value() {
            update = update.col_expr(column, Expr::val(value));
        }
    }
    update
        .filter(cart_line::Column::Id.eq(line.id.to_string()))
        .filter(cart_line::Column::CartId.eq(cart_id.to_string()))
        .into_query()
}

/// The delete of line `line_id` of cart `cart_id`.
fn removed_line(cart_id: CartId, line_id: uuid::Uuid) -> sea_orm::sea_query::DeleteStatement {
    cart_line::Entity::delete_many()
        .filter(cart_line::Column::Id.eq(line_id.to_string()))
        .filter(cart_line::Column::CartId.eq(cart_id.to_string()))
        .into_query()
}
