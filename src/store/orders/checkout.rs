//! Checkout's write: the order, its lines, one subscription per line, the cart's `ordered`
//! status and the request id, written together or not at all, on four conditions: the cart
//! is still active at the version planned on, the customer's holdings are still at the version
//! the plan read them at (so two checkouts racing for the same seats cannot both win, across
//! replicas too), its profile (qualifications, agreement: the customer's `version`, bumped by
//! every profile write) is still the one the plan was judged on (so a replica never sells on a
//! stale cached standing), and the request id is new. The plan, and planning again, are the
//! service's.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::super::carts::{claim_statement, load_cart};
use super::super::engine::{GuardedWrite, Insert, Outcome};
use super::super::entity::{customer, order, order_line, subscription};
use super::super::idempotency::{WriteKey, record_row, replay};
use super::super::{Store, uuid};
use super::events::created_event_rows;
use super::rows::load_order;
use super::transactions::transaction_row;
use crate::domain::DomainError;
use crate::domain::cart::{Cart, CartStatus};
use crate::domain::ids::{OrderId, PartnerId};
use crate::domain::order::{Order, Subscription};

/// An order planned on a cart at its version, on the customer's profile at `profile_version`
/// and on what it held at `holdings_version`.
#[derive(Debug, Clone, Copy)]
pub struct PlannedOrder<'a> {
    pub cart: &'a Cart,
    /// The customer's holdings version the plan read them at.
    pub holdings_version: i64,
    /// The customer's version (its profile) the plan was judged on.
    pub profile_version: i64,
    pub order: &'a Order,
    pub subscriptions: &'a [Subscription],
}

/// What came of writing a planned order.
#[derive(Debug)]
pub enum Placement {
    Placed,
    /// Nothing was written.
    Refused(Refusal),
}

/// Why a planned order was not written, as found after the refusal.
#[derive(Debug)]
pub enum Refusal {
    /// The cart was ordered already, by this request id (a retry) or another: that order.
    Ordered(Order),
    /// The cart as stored now, not ordered: changed, expired, or as planned on (then the
    /// customer's profile or what it holds moved on since the plan read them).
    Cart(Cart),
    /// There is no such cart any more.
    NoCart,
}

/// One placement's statements, and the values they write.
struct Rows<'a> {
    partner: PartnerId,
    plan: PlannedOrder<'a>,
    now: DateTime<Utc>,
}

impl Rows<'_> {
    /// Bumps the customer's holdings version if it is still the one the plan read.
    fn bump_statement(&self) -> sea_orm::sea_query::UpdateStatement {
        customer::Entity::update_many()
            .col_expr(
                customer::Column::HoldingsVersion,
                Expr::col(customer::Column::HoldingsVersion).add(1),
            )
            .filter(customer::Column::Id.eq(self.plan.cart.customer_id.to_string()))
            .filter(customer::Column::PartnerId.eq(self.partner.to_string()))
            .filter(customer::Column::HoldingsVersion.eq(self.plan.holdings_version))
            .into_query()
    }

    fn order_row(&self) -> order::ActiveModel {
        let order = self.plan.order;
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
        let order = self.plan.order;
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
        self.plan
            .subscriptions
            .iter()
            .map(move |s| subscription::ActiveModel {
                id: Set(s.id.to_string()),
                partner_id: Set(self.partner.to_string()),
                customer_id: Set(s.customer_id.to_string()),
                order_id: Set(self.plan.order.id.to_string()),
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
                unit_price_micros: Set(s.unit_price.micros),
                currency: Set(s.unit_price.currency.code().to_owned()),
                ..Default::default()
            })
    }
}

impl Store {
    /// Writes `plan` (see the module's comment) on a cart of `partner`, once per request id
    /// (`key`); a refused write is diagnosed: the order this request or another made, or the
    /// cart as it is now.
    pub async fn place_order(
        &self,
        partner: PartnerId,
        key: &WriteKey<'_>,
        plan: PlannedOrder<'_>,
        now: DateTime<Utc>,
    ) -> Result<Placement, DomainError> {
        let cart = plan.cart;
        let p = Rows { partner, plan, now };
        // The customer's row is locked first, at the planned profile and holdings versions
        // (profile writes and checkouts both lock it, so neither slips between), and the cart
        // claimed only under that lock: every writer takes the customer's lock before the
        // cart's. No foreign key checks these rows on PostgreSQL (m0007): this write is what
        // makes each reference its customer and order.
        let mut write = GuardedWrite::default();
        write
            .lock(
                customer::Entity::find()
                    .select_only()
                    .column(customer::Column::Id)
                    .filter(customer::Column::Id.eq(cart.customer_id.to_string()))
                    .filter(customer::Column::PartnerId.eq(partner.to_string()))
                    .filter(customer::Column::HoldingsVersion.eq(plan.holdings_version))
                    .filter(customer::Column::Version.eq(plan.profile_version))
                    .into_query(),
            )
            .update(
                claim_statement(
                    partner,
                    cart.id,
                    cart.version,
                    now,
                    CartStatus::Ordered,
                    Some(plan.order.id),
                ),
                1,
            )
            .update(p.bump_statement(), 1)
            .insert(Insert::row(&p.order_row()))
            .insert(Insert::row(&record_row(
                key,
                &plan.order.id.to_string(),
                now,
            )))
            .insert(Insert::rows(p.line_rows())?)
            .insert(Insert::rows(p.subscription_rows())?)
            .insert(Insert::rows(
                plan.order
                    .transactions
                    .iter()
                    .map(|t| transaction_row(partner, t)),
            )?)
            // Last: it takes the partner's event head, held to the commit.
            .insert(Insert::rows(created_event_rows(
                partner,
                plan.subscriptions,
                &plan.order.transactions,
                now,
            ))?);
        // The cart cached current is active no more.
        let carts = self.carts.clone();
        let cart_id = cart.id;
        write.after_commit(move || carts.forget(cart_id));
        if self.engine.write(write).await? == Outcome::Written {
            let (subscriptions, version) = (plan.subscriptions, plan.holdings_version);
            self.holdings_written(cart.customer_id, version, |cached| {
                cached.with(subscriptions, version + 1)
            });
            self.subscription_events_written(partner);
            return Ok(Placement::Placed);
        }
        if let Some(existing) = replay(&self.engine.direct(), key).await? {
            return self.existing_order(partner, &existing).await;
        }
        let Some(current) = load_cart(&self.engine.direct(), partner, cart.id).await? else {
            return Ok(Placement::Refused(Refusal::NoCart));
        };
        match (current.status, current.order_id) {
            (CartStatus::Ordered, Some(order_id)) => {
                self.existing_order(partner, &order_id.to_string()).await
            }
            _ => Ok(Placement::Refused(Refusal::Cart(current))),
        }
    }

    async fn existing_order(&self, partner: PartnerId, id: &str) -> Result<Placement, DomainError> {
        let id = OrderId::from(uuid("order id", id)?);
        load_order(self.engine.pool(), partner, id)
            .await?
            .map(|order| Placement::Refused(Refusal::Ordered(order)))
            .ok_or_else(|| {
                DomainError::Internal(format!("request id points at missing order {id}"))
            })
    }
}
