//! Carts: every change is a conditional update on the cart's version, so a stale etag or a
//! concurrent writer is refused rather than overwritten.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, InsertStatement, Order, Query, QueryStatementBuilder,
    SelectStatement, SubQueryStatement, UpdateStatement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};

use super::entity::{cart, cart_line};
use super::idempotency::{WriteKey, record, record_row, record_statement, replay};
use super::{
    SqliteBatch, Store, build, corrupt, cte, insert_select, is_unique_violation, returned_a_row,
    uuid, with_query, written,
};
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
        message:
            "the cart changed while this request ran: read it again and retry with its new etag"
                .into(),
    }
}

impl Store {
    /// Cart `id` of `partner` as stored: on SQLite the cart the writer keeps current, if
    /// it does (see `kept_carts.rs`), else read.
    pub async fn cart(&self, partner: PartnerId, id: CartId) -> Result<Option<Cart>, DomainError> {
        if self.writes.is_some()
            && let Some(cart) = self.kept_carts.current(partner, id)
        {
            return Ok(Some(cart));
        }
        let cart = load_cart(&self.direct(), partner, id).await?;
        if let Some(cart) = &cart {
            self.kept_carts.keep(partner, cart);
        }
        Ok(cart)
    }

    /// Cart `id` of `partner`, taken from what this process kept when it is kept at
    /// `version` (the version a write's etag names; see `kept_carts.rs`), else read.
    pub async fn cart_at(
        &self,
        partner: PartnerId,
        id: CartId,
        version: Option<i64>,
    ) -> Result<Option<Cart>, DomainError> {
        if let Some(cart) = version.and_then(|v| self.kept_carts.get(partner, id, v)) {
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
        let record = record_statement(key, &new.id.to_string(), now);
        let lines = lines_statement(new.id, 0, &new.lines);
        let written = if self.backend() == DbBackend::Postgres {
            // One statement: the key, the cart and its lines, or nothing.
            let mut with = Query::with();
            with.cte(cte(&Alias::new("recorded"), record));
            if let Some(lines) = lines {
                with.cte(cte(&Alias::new("lines"), lines));
            }
            let statement = with_query(with, cart::Entity::insert(row).into_query());
            written(self.direct().execute(&statement).await)?
        } else {
            let sqlite = DbBackend::Sqlite;
            let mut batch = SqliteBatch::default();
            batch.push(sqlite.build(&record), 1);
            batch.push(sqlite.build(&cart::Entity::insert(row).into_query()), 1);
            if let Some(lines) = lines {
                batch.push(sqlite.build(&lines), new.lines.len() as u64);
            }
            self.keep_current_after_commit(&mut batch, partner, new.clone());
            self.write_batch(batch).await?
        };
        if written {
            self.kept_carts.keep(partner, new);
            Ok(new.clone())
        } else {
            self.replayed_cart(partner, key).await
        }
    }

    /// The cart a request that was refused on its key made (or the key's reuse error).
    async fn replayed_cart(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
    ) -> Result<Cart, DomainError> {
        let Some(id) = replay(&self.direct(), key).await? else {
            return Err(concurrent_change());
        };
        let id = CartId::from(uuid("cart id", &id)?);
        load_cart(&self.direct(), partner, id)
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
        let claimed = Alias::new("claimed");
        let mut claim = claim_statement(
            partner,
            cart.id,
            cart.version,
            now,
            CartStatus::Active,
            None,
        );
        let record = record_row(key, &cart.id.to_string(), now);
        let written = if self.backend() == DbBackend::Postgres {
            // One statement: the key and the change are written from the claimed row only.
            claim.returning_col(cart::Column::Id);
            let guard = || Some(returned_a_row(&claimed));
            let mut with = Query::with();
            with.cte(cte(&claimed, claim)).cte(cte(
                &Alias::new("recorded"),
                insert_select(&record, Vec::new(), guard())?,
            ));
            let statement = with_query(with, line_change(cart.id, change, guard())?);
            match self.direct().execute(&statement).await {
                Ok(done) => done.rows_affected() == 1,
                Err(e) if is_unique_violation(&e) => false,
                Err(e) => return Err(e.into()),
            }
        } else {
            // One batch: the claim, then the key and the change, each changing its row.
            let sqlite = DbBackend::Sqlite;
            let mut batch = SqliteBatch::default();
            batch.push(sqlite.build(&claim), 1);
            batch.push(
                sqlite.build(&record_statement(key, &cart.id.to_string(), now)),
                1,
            );
            batch.push(build(sqlite, &line_change(cart.id, change, None)?)?, 1);
            self.keep_current_after_commit(&mut batch, partner, applied(cart, change));
            self.write_batch(batch).await?
        };
        if written {
            // The claim at the version read proves the stored cart was `cart`: it is now
            // `cart` with the change, one version on.
            let changed = applied(cart, change);
            self.kept_carts.keep(partner, &changed);
            Ok(changed)
        } else {
            // The cart moved on (here or on another replica): read it next time.
            self.kept_carts.forget(cart.id);
            self.replayed_cart(partner, key).await
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
        if replay(&self.direct(), key).await?.is_some() {
            return Ok(());
        }
        // Not current from here on (the delete goes through the pool, not the writer): a
        // caller that goes away after the commit leaves nothing deleted kept.
        self.kept_carts.forget(cart.id);
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
        self.kept_carts.forget(cart.id);
        Ok(())
    }

    /// SQLite: once `batch` commits, the writer thread keeps `cart` current.
    fn keep_current_after_commit(&self, batch: &mut SqliteBatch, partner: PartnerId, cart: Cart) {
        let kept = self.kept_carts.clone();
        batch.after_commit(move || kept.keep_current(partner, cart));
    }

    /// SQLite: once `batch` commits, the writer thread forgets cart `id`.
    pub(super) fn forget_cart_after_commit(&self, batch: &mut SqliteBatch, id: CartId) {
        let kept = self.kept_carts.clone();
        batch.after_commit(move || kept.forget(id));
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
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut carts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(cart) =
                load_cart(&self.direct(), partner, uuid("cart id", &id)?.into()).await?
            {
                carts.push(cart);
            }
        }
        Ok(carts)
    }
}

/// The insert of `lines` at positions from `first_position`; `None` if there are none.
fn lines_statement(
    cart_id: CartId,
    first_position: i32,
    lines: &[CartLine],
) -> Option<InsertStatement> {
    (!lines.is_empty()).then(|| {
        cart_line::Entity::insert_many(
            lines
                .iter()
                .enumerate()
                .map(|(i, line)| line_row(cart_id, first_position + i as i32, line)),
        )
        .into_query()
    })
}

/// The statement that applies `change` to the lines of `cart_id`, only if `guard` holds. An
/// added line goes after the last one.
fn line_change(
    cart_id: CartId,
    change: &LineChange,
    guard: Option<Expr>,
) -> Result<SubQueryStatement, DomainError> {
    let of_this_cart = cart_line::Column::CartId.eq(cart_id.to_string());
    Ok(match change {
        LineChange::Add(line) => {
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
                .and_where(of_this_cart)
                .to_owned();
            let extra = vec![(
                cart_line::Column::Position,
                Expr::SubQuery(None, Box::new(next_position.into_sub_query_statement())),
            )];
            insert_select(&row, extra, guard)?.into_sub_query_statement()
        }
        LineChange::Update(line) => {
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
            let mut update = update
                .filter(cart_line::Column::Id.eq(line.id.to_string()))
                .filter(of_this_cart)
                .into_query();
            if let Some(guard) = guard {
                update.and_where(guard);
            }
            update.into_sub_query_statement()
        }
        LineChange::Remove(line_id) => {
            let mut delete = cart_line::Entity::delete_many()
                .filter(cart_line::Column::Id.eq(line_id.to_string()))
                .filter(of_this_cart)
                .into_query();
            if let Some(guard) = guard {
                delete.and_where(guard);
            }
            delete.into_sub_query_statement()
        }
    })
}
