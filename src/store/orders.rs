//! Checkout, orders and subscriptions. Checkout is one transaction: the order, its lines, one
//! subscription per line and the cart's `ordered` status commit together or not at all.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockType, Query, UpdateStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, TransactionTrait,
};

use super::carts::{claim_statement, load_cart};
use super::entity::{cart, customer, order, order_line, subscription};
use super::idempotency::{WriteKey, record, record_row, record_statement, replay};
use super::{
    SqliteBatch, Store, corrupt, cte, insert_rows_select, insert_select, returned_a_row, uuid,
    with_query, written,
};
use crate::domain::DomainError;
use crate::domain::cart::{Cart, CartStatus, ParentSubscription, Parents};
use crate::domain::catalog::{BillingCycle, Term};
use crate::domain::eligibility::{Holding, HoldingStatus, Holdings};
use crate::domain::ids::{
    AvailabilityId, CartId, CatalogItemId, CustomerId, OrderId, PartnerId, ProductId, SkuId,
    SubscriptionId,
};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{
    Order, OrderFilter, OrderLine, OrderStatus, Subscription, SubscriptionFilter,
    SubscriptionStatus,
};

fn item(product: &str, sku: &str, availability: &str) -> Result<CatalogItemId, DomainError> {
    Ok(CatalogItemId {
        product: ProductId::parse("p", product).map_err(|_| corrupt("product", product))?,
        sku: SkuId::parse("s", sku).map_err(|_| corrupt("sku", sku))?,
        availability: AvailabilityId::parse("a", availability)
            .map_err(|_| corrupt("availability", availability))?,
    })
}

fn subscription_from_row(s: subscription::Model) -> Result<Subscription, DomainError> {
    Ok(Subscription {
        id: SubscriptionId::parse("id", &s.id).map_err(|_| corrupt("subscription", &s.id))?,
        customer_id: CustomerId::parse("c", &s.customer_id)
            .map_err(|_| corrupt("customer", &s.customer_id))?,
        order_id: uuid("order", &s.order_id)?.into(),
        item: item(&s.product_id, &s.sku_id, &s.availability_id)?,
        title: String::new(),
        quantity: s.quantity,
        term: Term::from_db(&s.term)?,
        billing_cycle: BillingCycle::from_db(&s.billing_cycle)?,
        status: SubscriptionStatus::parse(&s.status).ok_or_else(|| corrupt("status", &s.status))?,
        is_trial: s.is_trial,
        start_at: s.start_at,
        commitment_end_at: s.commitment_end_at,
        auto_renew: s.auto_renew,
        parent: s
            .parent_subscription_id
            .as_deref()
            .map(|p| SubscriptionId::parse("p", p).map_err(|_| corrupt("parent", p)))
            .transpose()?,
        version: s.version,
    })
}

async fn load_order<C: ConnectionTrait>(
    db: &C,
    partner: PartnerId,
    id: OrderId,
) -> Result<Option<Order>, DomainError> {
    let Some(row) = order::Entity::find_by_id(id.to_string())
        .filter(order::Column::PartnerId.eq(partner.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(id.to_string()))
        .order_by_asc(order_line::Column::LineNumber)
        .all(db)
        .await?;
    order_from_rows(row, lines).map(Some)
}

fn order_from_rows(row: order::Model, lines: Vec<order_line::Model>) -> Result<Order, DomainError> {
    let currency =
        Currency::parse("c", &row.currency).map_err(|_| corrupt("currency", &row.currency))?;
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(OrderLine {
                line_number: l.line_number,
                item: item(&l.product_id, &l.sku_id, &l.availability_id)?,
                product_title: l.product_title,
                sku_title: l.sku_title,
                quantity: l.quantity,
                term: Term::from_db(&l.term)?,
                billing_cycle: BillingCycle::from_db(&l.billing_cycle)?,
                unit_price: Money::from_micros(currency, l.unit_price_micros),
                extended_price: Money::from_micros(currency, l.extended_price_micros),
                subscription_id: SubscriptionId::parse("s", &l.subscription_id)
                    .map_err(|_| corrupt("subscription", &l.subscription_id))?,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(Order {
        id: uuid("order id", &row.id)?.into(),
        order_number: row.order_number,
        customer_id: CustomerId::parse("c", &row.customer_id)
            .map_err(|_| corrupt("customer", &row.customer_id))?,
        cart_id: uuid("cart id", &row.cart_id)?.into(),
        status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
        lines,
        total: Money::from_micros(currency, row.total_micros),
        created_at: row.created_at,
        cancelled_at: row.cancelled_at,
        refund: row.refund_micros.map(|m| Money::from_micros(currency, m)),
        version: row.version,
    })
}

/// What a customer holds: its subscriptions counted per SKU for the rules, and the ones an
/// add-on may hang on. Cloning it copies the counts (one entry per SKU held), not the
/// subscriptions.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub holdings: Holdings,
    pub parents: Parents,
    /// The customer's `holdings_version` these were read at, when read with it.
    pub version: Option<i64>,
}

/// The columns of a subscription the rules read: what it is, its seats and state.
const HELD_COLUMNS: [subscription::Column; 6] = [
    subscription::Column::Id,
    subscription::Column::ProductId,
    subscription::Column::SkuId,
    subscription::Column::Quantity,
    subscription::Column::Status,
    subscription::Column::IsTrial,
];

pub(super) async fn held<C: ConnectionTrait>(
    db: &C,
    customer: CustomerId,
) -> Result<Held, DomainError> {
    Ok(held_at(db, None, customer).await?.unwrap_or_default())
}

/// What a customer (of `partner`, when given) holds, with the `holdings_version` it was read
/// at, in one statement (one snapshot); `None` if there is no such customer.
async fn held_at<C: ConnectionTrait>(
    db: &C,
    partner: Option<PartnerId>,
    customer: CustomerId,
) -> Result<Option<Held>, DomainError> {
    let mut query = Query::select()
        .column((customer::Entity, customer::Column::HoldingsVersion))
        .columns(HELD_COLUMNS.map(|c| (subscription::Entity, c)))
        .from(customer::Entity)
        .left_join(
            subscription::Entity,
            Expr::col((subscription::Entity, subscription::Column::CustomerId))
                .equals((customer::Entity, customer::Column::Id)),
        )
        .and_where(Expr::col((customer::Entity, customer::Column::Id)).eq(customer.to_string()))
        .to_owned();
    if let Some(partner) = partner {
        query.and_where(
            Expr::col((customer::Entity, customer::Column::PartnerId)).eq(partner.to_string()),
        );
    }
    let rows = db.query_all(&query).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let version: i64 = first.try_get("", "holdings_version")?;
    let mut held = held_from_rows(&rows)?;
    held.version = Some(version);
    Ok(Some(held))
}

impl Held {
    fn hold(
        &mut self,
        id: SubscriptionId,
        product_id: ProductId,
        sku_id: SkuId,
        quantity: i32,
        status: SubscriptionStatus,
        is_trial: bool,
    ) {
        self.parents.push_back(ParentSubscription {
            id,
            product_id: product_id.clone(),
            sku_id: sku_id.clone(),
            active: status == SubscriptionStatus::Active,
        });
        self.holdings.add(Holding {
            product_id,
            sku_id,
            quantity: i64::from(quantity),
            status: match status {
                SubscriptionStatus::Active => HoldingStatus::Active,
                SubscriptionStatus::Suspended => HoldingStatus::Suspended,
                SubscriptionStatus::Cancelled => HoldingStatus::Cancelled,
                SubscriptionStatus::Expired => HoldingStatus::Expired,
            },
            is_trial,
        });
    }

    /// What is held once `subscriptions` are written on top of it, at `version`.
    pub(super) fn with(&self, subscriptions: &[Subscription], version: i64) -> Held {
        let mut next = self.clone();
        for s in subscriptions {
            next.hold(
                s.id,
                s.item.product.clone(),
                s.item.sku.clone(),
                s.quantity,
                s.status,
                s.is_trial,
            );
        }
        next.version = Some(version);
        next
    }
}

/// Rows of `HELD_COLUMNS` (a row without a subscription, from an outer join, is skipped).
fn held_from_rows(rows: &[QueryResult]) -> Result<Held, DomainError> {
    let mut out = Held::default();
    for row in rows {
        let Some(id) = row.try_get::<Option<String>>("", "id")? else {
            continue;
        };
        let product: String = row.try_get("", "product_id")?;
        let sku: String = row.try_get("", "sku_id")?;
        let quantity: i32 = row.try_get("", "quantity")?;
        let status: String = row.try_get("", "status")?;
        let is_trial: bool = row.try_get("", "is_trial")?;
        let id = SubscriptionId::parse("id", &id).map_err(|_| corrupt("subscription", &id))?;
        let product_id =
            ProductId::parse("p", &product).map_err(|_| corrupt("product", &product))?;
        let sku_id = SkuId::parse("s", &sku).map_err(|_| corrupt("sku", &sku))?;
        let status =
            SubscriptionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        out.hold(id, product_id, sku_id, quantity, status, is_trial);
    }
    Ok(out)
}

/// How a checkout ended.
#[derive(Debug)]
pub enum CheckoutOutcome {
    /// This request created the order.
    Created(Order),
    /// The cart was already ordered, or this request id already checked it out.
    Existing(Order),
}

/// How many times a checkout plans again when what the customer holds moved under it.
const CHECKOUT_ATTEMPTS: usize = 8;

/// One checkout attempt's order, and the conditions it is written on.
struct Placement<'a> {
    partner: PartnerId,
    key: &'a WriteKey<'a>,
    cart: &'a Cart,
    /// The version of the holdings the order was planned on.
    holdings_version: i64,
    order: &'a Order,
    subscriptions: &'a [Subscription],
    now: DateTime<Utc>,
}

impl Placement<'_> {
    /// Marks the cart ordered if it is still active at the version reviewed.
    fn claim_statement(&self) -> UpdateStatement {
        claim_statement(
            self.partner,
            self.cart.id,
            self.cart.version,
            self.now,
            CartStatus::Ordered,
            Some(self.order.id),
        )
    }

    /// Bumps the customer's holdings version if it is still the one the plan read.
    fn bump_statement(&self) -> UpdateStatement {
        customer::Entity::update_many()
            .col_expr(
                customer::Column::HoldingsVersion,
                Expr::col(customer::Column::HoldingsVersion).add(1),
            )
            .filter(customer::Column::Id.eq(self.cart.customer_id.to_string()))
            .filter(customer::Column::PartnerId.eq(self.partner.to_string()))
            .filter(customer::Column::HoldingsVersion.eq(self.holdings_version))
            .into_query()
    }

    fn order_row(&self) -> order::ActiveModel {
        let order = self.order;
        order::ActiveModel {
            id: Set(order.id.to_string()),
            partner_id: Set(self.partner.to_string()),
            customer_id: Set(order.customer_id.to_string()),
            cart_id: Set(order.cart_id.to_string()),
            order_number: Set(order.order_number.clone()),
            status: Set(order.status.as_str().to_owned()),
            currency: Set(order.total.currency.code().to_owned()),
            total_micros: Set(order.total.micros),
            created_at: Set(order.created_at),
            cancelled_at: Set(None),
            refund_micros: Set(None),
            version: Set(order.version),
        }
    }

    fn line_rows(&self) -> impl Iterator<Item = order_line::ActiveModel> + '_ {
        let order = self.order;
        order.lines.iter().map(|l| order_line::ActiveModel {
            order_id: Set(order.id.to_string()),
            line_number: Set(l.line_number),
            product_id: Set(l.item.product.to_string()),
            sku_id: Set(l.item.sku.to_string()),
            availability_id: Set(l.item.availability.to_string()),
            product_title: Set(l.product_title.clone()),
            sku_title: Set(l.sku_title.clone()),
            quantity: Set(l.quantity),
            term: Set(l.term.as_str().to_owned()),
            billing_cycle: Set(l.billing_cycle.as_str().to_owned()),
            unit_price_micros: Set(l.unit_price.micros),
            extended_price_micros: Set(l.extended_price.micros),
            subscription_id: Set(l.subscription_id.to_string()),
        })
    }

    fn subscription_rows(&self) -> impl Iterator<Item = subscription::ActiveModel> + '_ {
        let now = self.now;
        self.subscriptions
            .iter()
            .map(move |s| subscription::ActiveModel {
                id: Set(s.id.to_string()),
                partner_id: Set(self.partner.to_string()),
                customer_id: Set(s.customer_id.to_string()),
                order_id: Set(self.order.id.to_string()),
                product_id: Set(s.item.product.to_string()),
                sku_id: Set(s.item.sku.to_string()),
                availability_id: Set(s.item.availability.to_string()),
                quantity: Set(s.quantity),
                term: Set(s.term.as_str().to_owned()),
                billing_cycle: Set(s.billing_cycle.as_str().to_owned()),
                status: Set(s.status.as_str().to_owned()),
                is_trial: Set(s.is_trial),
                parent_subscription_id: Set(s.parent.map(|p| p.to_string())),
                start_at: Set(s.start_at),
                commitment_end_at: Set(s.commitment_end_at),
                auto_renew: Set(s.auto_renew),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            })
    }
}

impl Store {
    pub async fn order(
        &self,
        partner: PartnerId,
        id: OrderId,
    ) -> Result<Option<Order>, DomainError> {
        load_order(&self.db, partner, id).await
    }

    /// Checks a cart out: takes what the customer holds and its `holdings_version` (first
    /// `kept`, what this process kept with its version, if any; else read), lets `plan`
    /// evaluate the rules on it and make the order and its subscriptions, then writes them
    /// atomically on three conditions: the cart is still active at its version, the holdings
    /// are still at that version (so two checkouts racing for the same seats cannot both win,
    /// across replicas too), and the request id is new. If a condition fails, the outcome is
    /// found out afterwards: the order this request or another made, an error, or, when only
    /// the holdings moved, a new plan.
    pub async fn checkout<F>(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        cart: &Cart,
        now: DateTime<Utc>,
        kept: Option<&Held>,
        plan: F,
    ) -> Result<CheckoutOutcome, DomainError>
    where
        F: Fn(&Held) -> Result<(Order, Vec<Subscription>), DomainError>,
    {
        // Planning on kept holdings is as safe as on read ones: the write holds only if the
        // version they were read at is still the customer's.
        let mut kept = kept.filter(|held| held.version.is_some());
        for _ in 0..CHECKOUT_ATTEMPTS {
            let read;
            let held = match kept.take() {
                Some(kept) => kept,
                None => {
                    read = held_at(&self.direct(), Some(partner), cart.customer_id)
                        .await?
                        .ok_or_else(|| {
                            DomainError::not_found("customer", cart.customer_id.to_string())
                        })?;
                    &read
                }
            };
            let version = held
                .version
                .ok_or_else(|| DomainError::Internal("holdings read without a version".into()))?;
            let (order, subscriptions) = plan(held)?;
            let placed = Placement {
                partner,
                key,
                cart,
                holdings_version: version,
                order: &order,
                subscriptions: &subscriptions,
                now,
            };
            let written = match self.backend() {
                DbBackend::Postgres => self.place_in_one_statement(&placed).await?,
                _ => self.place_in_a_transaction(&placed).await?,
            };
            if written {
                self.kept_carts.forget(cart.id);
                self.holdings_written(cart.customer_id, version, |kept| {
                    kept.with(&subscriptions, version + 1)
                });
                return Ok(CheckoutOutcome::Created(order));
            }
            if let Some(existing) = replay(&self.direct(), key).await? {
                return self.existing_order(partner, &existing).await;
            }
            if let Some(outcome) = self.checkout_lost(partner, cart, now).await? {
                return Ok(outcome);
            }
            // The cart is as it was: what the customer holds changed since it was read.
        }
        Err(DomainError::Aborted {
            reason: "CONCURRENT_UPDATE",
            message: "the customer's subscriptions kept changing during checkout: retry".into(),
        })
    }

    /// SQLite: one transaction of one batch, each statement changing the rows it must: the
    /// holdings version at the one read, the request id, the claim of the cart, the order,
    /// its lines and subscriptions. `false`: a condition failed and nothing was kept.
    async fn place_in_a_transaction(&self, p: &Placement<'_>) -> Result<bool, DomainError> {
        let sqlite = DbBackend::Sqlite;
        let record = record_statement(p.key, &p.order.id.to_string(), p.now);
        let mut batch = SqliteBatch::default();
        batch.push(sqlite.build(&p.bump_statement()), 1);
        batch.push(sqlite.build(&record), 1);
        batch.push(sqlite.build(&p.claim_statement()), 1);
        batch.push(
            sqlite.build(&order::Entity::insert(p.order_row()).into_query()),
            1,
        );
        let lines: Vec<_> = p.line_rows().collect();
        if !lines.is_empty() {
            let rows = lines.len() as u64;
            batch.push(
                sqlite.build(&order_line::Entity::insert_many(lines).into_query()),
                rows,
            );
        }
        let subscriptions: Vec<_> = p.subscription_rows().collect();
        if !subscriptions.is_empty() {
            let rows = subscriptions.len() as u64;
            let insert = subscription::Entity::insert_many(subscriptions).into_query();
            batch.push(sqlite.build(&insert), rows);
        }
        // The cart the writer kept current is active no more.
        self.forget_cart_after_commit(&mut batch, p.cart.id);
        self.write_batch(batch).await
    }

    /// PostgreSQL: one statement, atomic by itself, in one round trip. It locks the
    /// customer's row if its holdings version is still the one planned on, then claims the
    /// cart only if it holds that lock (so the customer's row lock is always taken before the
    /// cart's), bumps the holdings version only if the cart was claimed, inserts the order only
    /// if the version was bumped, and its lines, subscriptions and request id only if the
    /// order was inserted. Each step writes nothing unless every step before it matched.
    /// `false`: a condition failed and nothing was written; a reused request id fails the
    /// statement on its key, which writes nothing either. No foreign key checks these rows on
    /// PostgreSQL (m0007): this statement is what makes each reference its customer and order.
    async fn place_in_one_statement(&self, p: &Placement<'_>) -> Result<bool, DomainError> {
        let locked = Alias::new("locked");
        let claimed = Alias::new("claimed");
        let bumped = Alias::new("bumped");
        let placed = Alias::new("placed");
        let mut lock = customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .filter(customer::Column::Id.eq(p.cart.customer_id.to_string()))
            .filter(customer::Column::PartnerId.eq(p.partner.to_string()))
            .filter(customer::Column::HoldingsVersion.eq(p.holdings_version))
            .into_query();
        lock.lock(LockType::Update);
        let mut claim = p.claim_statement();
        claim
            .and_where(returned_a_row(&locked))
            .returning_col(cart::Column::Id);
        let mut bump = p.bump_statement();
        bump.and_where(returned_a_row(&claimed))
            .returning_col(customer::Column::Id);
        let mut order = insert_select(&p.order_row(), Vec::new(), Some(returned_a_row(&bumped)))?;
        order.returning_col(order::Column::Id);
        let record = record_row(p.key, &p.order.id.to_string(), p.now);
        let mut with = Query::with();
        with.cte(cte(&locked, lock))
            .cte(cte(&claimed, claim))
            .cte(cte(&bumped, bump))
            .cte(cte(&placed, order))
            .cte(cte(
                &Alias::new("recorded"),
                insert_select(&record, Vec::new(), Some(returned_a_row(&placed)))?,
            ));
        if !p.order.lines.is_empty() {
            let lines = insert_rows_select(p.line_rows(), returned_a_row(&placed))?;
            with.cte(cte(&Alias::new("lines"), lines));
        }
        if !p.subscriptions.is_empty() {
            let subscriptions = insert_rows_select(p.subscription_rows(), returned_a_row(&placed))?;
            with.cte(cte(&Alias::new("subscriptions"), subscriptions));
        }
        let statement = with_query(
            with,
            Query::select()
                .expr(Expr::val(1))
                .from(placed.clone())
                .to_owned(),
        );
        match self.direct().query_one(&statement).await {
            Ok(placed) => Ok(placed.is_some()),
            // Refused on a key (a reused request id): nothing was written.
            Err(e) => written(Err(e)),
        }
    }

    async fn existing_order(
        &self,
        partner: PartnerId,
        id: &str,
    ) -> Result<CheckoutOutcome, DomainError> {
        let id = OrderId::from(uuid("order id", id)?);
        load_order(&self.db, partner, id)
            .await?
            .map(CheckoutOutcome::Existing)
            .ok_or_else(|| {
                DomainError::Internal(format!("request id points at missing order {id}"))
            })
    }

    /// A checkout's conditions failed: the cart was ordered meanwhile (answer with that order),
    /// it changed (ABORTED) or expired, or `None`: it is as it was.
    async fn checkout_lost(
        &self,
        partner: PartnerId,
        cart: &Cart,
        now: DateTime<Utc>,
    ) -> Result<Option<CheckoutOutcome>, DomainError> {
        let current = load_cart(&self.direct(), partner, cart.id)
            .await?
            .ok_or_else(|| DomainError::not_found("cart", cart.id.to_string()))?;
        match (current.status, current.order_id) {
            (CartStatus::Ordered, Some(order_id)) => self
                .existing_order(partner, &order_id.to_string())
                .await
                .map(Some),
            _ if current.is_expired(now) => Err(DomainError::FailedPrecondition {
                message: format!("the cart expired at {}", current.expires_at.to_rfc3339()),
                violations: Vec::new(),
            }),
            _ if current.version != cart.version || current.status != CartStatus::Active => {
                Err(DomainError::stale_etag(
                    CartId::RESOURCE,
                    Some(&current.etag()),
                    None,
                    "review it again before checking out",
                ))
            }
            _ => Ok(None),
        }
    }

    /// A customer's orders, newest first, optionally by status and creation time, after the
    /// `(created_at, id)` key of the previous page.
    pub async fn list_orders(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        filter: &OrderFilter,
        after: Option<(DateTime<Utc>, String)>,
        limit: u64,
    ) -> Result<Vec<Order>, DomainError> {
        let OrderFilter { status, from, to } = *filter;
        let mut query = order::Entity::find()
            .filter(order::Column::PartnerId.eq(partner.to_string()))
            .filter(order::Column::CustomerId.eq(customer.to_string()))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(order::Column::Status.eq(status.as_str()));
        }
        if let Some(from) = from {
            query = query.filter(order::Column::CreatedAt.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(order::Column::CreatedAt.lt(to));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                Expr::col(order::Column::CreatedAt)
                    .lt(at)
                    .or(Expr::col(order::Column::CreatedAt)
                        .eq(at)
                        .and(Expr::col(order::Column::Id).lt(id))),
            );
        }
        let rows = query.all(&self.db).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.is_in(ids))
            .order_by_asc(order_line::Column::LineNumber)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    lines.drain(..).partition(|l| l.order_id == row.id);
                lines = rest;
                order_from_rows(row, mine)
            })
            .collect()
    }

    /// Cancels an order at `version` and its subscriptions with the add-ons hanging on them,
    /// recording the refund.
    pub async fn cancel_order(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        order: &Order,
        refund: Money,
        now: DateTime<Utc>,
    ) -> Result<Order, DomainError> {
        if let Some(existing) = replay(&self.direct(), key).await? {
            let id = OrderId::from(uuid("order id", &existing)?);
            return load_order(&self.db, partner, id)
                .await?
                .ok_or_else(|| DomainError::not_found("order", id.to_string()));
        }
        let turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let updated = order::Entity::update_many()
            .col_expr(
                order::Column::Status,
                Expr::value(OrderStatus::Cancelled.as_str()),
            )
            .col_expr(order::Column::CancelledAt, Expr::value(now))
            .col_expr(order::Column::RefundMicros, Expr::value(refund.micros))
            .col_expr(
                order::Column::Version,
                Expr::col(order::Column::Version).add(1),
            )
            .filter(order::Column::Id.eq(order.id.to_string()))
            .filter(order::Column::PartnerId.eq(partner.to_string()))
            .filter(order::Column::Version.eq(order.version))
            .filter(order::Column::Status.is_in([
                OrderStatus::Pending.as_str(),
                OrderStatus::Completed.as_str(),
            ]))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(DomainError::stale_etag(
                OrderId::RESOURCE,
                None,
                None,
                "read it again",
            ));
        }
        if !record(&txn, key, &order.id.to_string(), now).await? {
            drop(txn);
            drop(turn);
            return Box::pin(self.cancel_order(partner, key, order, refund, now)).await;
        }
        let own: Vec<String> = order
            .lines
            .iter()
            .map(|l| l.subscription_id.to_string())
            .collect();
        subscription::Entity::update_many()
            .col_expr(
                subscription::Column::Status,
                Expr::value(SubscriptionStatus::Cancelled.as_str()),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .col_expr(subscription::Column::AutoRenew, Expr::value(false))
            .col_expr(
                subscription::Column::Version,
                Expr::col(subscription::Column::Version).add(1),
            )
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            // Add-ons hang on a base of the same customer: the customer's index finds both.
            .filter(subscription::Column::CustomerId.eq(order.customer_id.to_string()))
            .filter(
                subscription::Column::Id
                    .is_in(own.clone())
                    .or(subscription::Column::ParentSubscriptionId.is_in(own)),
            )
            .filter(subscription::Column::Status.ne(SubscriptionStatus::Cancelled.as_str()))
            .exec(&txn)
            .await?;
        // What the customer holds changed: a checkout planned on the old holdings must not
        // be written (an add-on on a base cancelled meanwhile).
        customer::Entity::update_many()
            .col_expr(
                customer::Column::HoldingsVersion,
                Expr::col(customer::Column::HoldingsVersion).add(1),
            )
            .filter(customer::Column::Id.eq(order.customer_id.to_string()))
            .filter(customer::Column::PartnerId.eq(partner.to_string()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        // Add-ons hang on a base of the same customer.
        self.holdings_changed(order.customer_id);
        load_order(&self.db, partner, order.id)
            .await?
            .ok_or_else(|| DomainError::not_found("order", order.id.to_string()))
    }

    /// Marks pending orders whose subscriptions exist as completed; returns how many. On
    /// SQLite the update goes through the writer like every hot write: a commit on another
    /// connection would empty the writer's page cache (SQLite drops it when the file changed
    /// under it), ten times a second under the provisioning loop.
    pub async fn complete_pending_orders(&self, limit: u64) -> Result<u64, DomainError> {
        let pending: Vec<String> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()))
            .order_by_asc(order::Column::CreatedAt)
            .limit(limit)
            .into_tuple()
            .all(&self.direct())
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let count = pending.len() as u64;
        let update = order::Entity::update_many()
            .col_expr(
                order::Column::Status,
                Expr::value(OrderStatus::Completed.as_str()),
            )
            .col_expr(
                order::Column::Version,
                Expr::col(order::Column::Version).add(1),
            )
            .filter(order::Column::Id.is_in(pending))
            .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()));
        if self.backend() == DbBackend::Postgres {
            return Ok(update.exec(&self.direct()).await?.rows_affected);
        }
        // All of them or none: an order cancelled meanwhile leaves the rest to the next pass.
        let mut batch = SqliteBatch::default();
        batch.push(DbBackend::Sqlite.build(&update.into_query()), count);
        Ok(if self.write_batch(batch).await? {
            count
        } else {
            0
        })
    }

    pub async fn subscription(
        &self,
        partner: PartnerId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, DomainError> {
        subscription::Entity::find_by_id(id.to_string())
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .one(&self.db)
            .await?
            .map(subscription_from_row)
            .transpose()
    }

    pub async fn list_subscriptions(
        &self,
        partner: PartnerId,
        customer: CustomerId,
        filter: &SubscriptionFilter,
        after: Option<SubscriptionId>,
        limit: u64,
    ) -> Result<Vec<Subscription>, DomainError> {
        let SubscriptionFilter {
            status,
            product,
            parent,
        } = filter.clone();
        let mut query = subscription::Entity::find()
            .filter(subscription::Column::PartnerId.eq(partner.to_string()))
            .filter(subscription::Column::CustomerId.eq(customer.to_string()))
            .order_by_asc(subscription::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(subscription::Column::Status.eq(status.as_str()));
        }
        if let Some(product) = product {
            query = query.filter(subscription::Column::ProductId.eq(product.to_string()));
        }
        if let Some(parent) = parent {
            query = query.filter(subscription::Column::ParentSubscriptionId.eq(parent.to_string()));
        }
        if let Some(after) = after {
            query = query.filter(subscription::Column::Id.gt(after.to_string()));
        }
        query
            .all(&self.db)
            .await?
            .into_iter()
            .map(subscription_from_row)
            .collect()
    }
}
