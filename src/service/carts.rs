//! Carts: build, review (every rule, same as the purchasability check), check out.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Clock;
use super::catalog::{CatalogService, Page};
use super::customers::CustomerService;
use super::paging::{PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::cart::{self, Cart, CartLine, CartStatus, LineInput, Review};
use crate::domain::catalog::Catalog;
use crate::domain::customer::{Caller, Customer, Partner};
use crate::domain::eligibility::{Buyer, Holdings};
use crate::domain::error::Precondition;
use crate::domain::ids::{CustomerId, RequestId, SubscriptionId};
use crate::domain::money::Money;
use crate::domain::order::{
    Order, OrderLine, OrderStatus, Subscription, SubscriptionStatus, order_number, term_end,
};
use crate::store::{
    CustomerHoldings, LineChange, Placement, PlannedOrder, Refusal, Standing, Store, WriteKey,
};

/// A cart with its review as of now.
#[derive(Debug)]
pub struct ReviewedCart {
    pub cart: Cart,
    pub review: Review,
    pub expired: bool,
}

#[derive(Debug, Clone)]
pub struct CartService {
    store: Store,
    catalog: CatalogService,
    customers: CustomerService,
    tokens: PageTokens,
    clock: Arc<dyn Clock>,
}

fn fingerprint(request: &impl std::fmt::Debug) -> String {
    format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(format!("{request:?}").as_bytes())
    )
}

fn not_found(id: uuid::Uuid) -> DomainError {
    DomainError::not_found("cart", id.to_string())
}

fn stale(cart: &Cart, etag: &str) -> DomainError {
    DomainError::Aborted {
        reason: "ETAG_MISMATCH",
        message: format!(
            "the cart changed (etag {} now, {} sent): read it again",
            cart.etag(),
            crate::domain::error::echo(etag)
        ),
    }
}

/// The cart-level and line-level problems as PreconditionFailure violations.
fn violations(review: &Review, customer: CustomerId) -> Vec<Precondition> {
    let mut out: Vec<Precondition> = review
        .problems
        .iter()
        .map(|p| Precondition {
            code: p.code.to_owned(),
            subject: format!("customers/{customer}"),
            description: p.message.clone(),
        })
        .collect();
    for line in &review.lines {
        for p in &line.problems {
            out.push(Precondition {
                code: p.code.to_owned(),
                subject: format!("lines/{}", line.line.id),
                description: p.message.clone(),
            });
        }
    }
    out
}

impl CartService {
    pub fn new(
        store: Store,
        catalog: CatalogService,
        customers: CustomerService,
        tokens: PageTokens,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            catalog,
            customers,
            tokens,
            clock,
        }
    }

    async fn review(
        &self,
        caller: &Caller,
        partner: &Partner,
        standing: &Standing,
        cart: Cart,
    ) -> Result<ReviewedCart, DomainError> {
        let catalog = self.catalog.snapshot();
        let now = self.clock.now();
        let buyer = buyer(
            &catalog,
            caller,
            partner,
            &standing.customer,
            &standing.held.holdings,
            now,
        );
        let review = cart::review(&buyer, &standing.held.parents, &cart.lines);
        Ok(ReviewedCart {
            expired: cart.is_expired(now),
            cart,
            review,
        })
    }

    /// The cart of the caller's partner (or NOT_FOUND), and its customer's partner and
    /// standing. A write names the version it saw (`etag`): the store may then answer from
    /// what it kept at that version.
    async fn load(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        etag: Option<&str>,
    ) -> Result<(Partner, Arc<Standing>, Cart), DomainError> {
        let partner_id = caller.partner()?;
        let cart = self
            .store
            .cart_at(partner_id, id, etag.and_then(Cart::version_in_etag))
            .await?
            .ok_or_else(|| not_found(id))?;
        let (partner, standing) = self.customers.buyer(caller, cart.customer_id).await?;
        Ok((partner, standing, cart))
    }

    /// Refuses changes to an ordered or expired cart, and a stale etag.
    fn check_writable(
        &self,
        cart: &Cart,
        etag: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if cart.status == CartStatus::Ordered {
            return Err(DomainError::FailedPrecondition {
                message: "the cart was checked out and can no longer change".into(),
                violations: vec![Precondition {
                    code: "CART_ORDERED".into(),
                    subject: format!("carts/{}", cart.id),
                    description: "an ordered cart is read-only".into(),
                }],
            });
        }
        if cart.is_expired(now) {
            return Err(DomainError::FailedPrecondition {
                message: format!(
                    "the cart expired at {}; create a new one",
                    cart.expires_at.to_rfc3339()
                ),
                violations: vec![Precondition {
                    code: "CART_EXPIRED".into(),
                    subject: format!("carts/{}", cart.id),
                    description: format!(
                        "carts expire {} days after creation",
                        cart::CART_LIFETIME.num_days()
                    ),
                }],
            });
        }
        match etag {
            Some(etag) if etag != cart.etag() => Err(stale(cart, etag)),
            _ => Ok(()),
        }
    }

    /// New or changed lines must name an item of the current catalog; items that leave the
    /// catalog later show up as line problems instead.
    fn check_items<'a>(
        &self,
        field: &str,
        lines: impl IntoIterator<Item = &'a LineInput>,
    ) -> Result<(), DomainError> {
        let catalog = self.catalog.snapshot();
        let mut violations = crate::domain::error::Violations::new();
        for (i, line) in lines.into_iter().enumerate() {
            if catalog.item(&line.item).is_none() {
                violations.push(crate::domain::FieldViolation::new(
                    field.replace("{i}", &i.to_string()),
                    "UNKNOWN_CATALOG_ITEM",
                    format!("{} is not an item of the current catalog", line.item),
                ));
            }
        }
        violations.into_result()
    }

    /// Whether `change` may be made to `cart` with `etag` now.
    fn check_change(
        &self,
        cart: &Cart,
        etag: Option<&str>,
        change: &LineChange,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.check_writable(cart, etag, now)?;
        if let LineChange::Add(line) | LineChange::Update(line) = change {
            self.check_items("line.catalog_item_id", [&line.input])?;
        }
        match change {
            LineChange::Add(_) if cart.lines.len() >= cart::MAX_LINES => Err(DomainError::invalid(
                "line",
                "TOO_MANY",
                format!("a cart holds at most {} lines", cart::MAX_LINES),
            )),
            LineChange::Update(line) if !cart.lines.iter().any(|l| l.id == line.id) => {
                Err(DomainError::not_found("cart line", line.id.to_string()))
            }
            LineChange::Remove(id) if !cart.lines.iter().any(|l| l.id == *id) => {
                Err(DomainError::not_found("cart line", id.to_string()))
            }
            _ => Ok(()),
        }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        customer_id: CustomerId,
        lines: Vec<LineInput>,
    ) -> Result<ReviewedCart, DomainError> {
        caller.require(caller.role.may_purchase(), "create carts")?;
        let (partner, standing) = self.customers.buyer(caller, customer_id).await?;
        if lines.len() > cart::MAX_LINES {
            return Err(DomainError::invalid(
                "lines",
                "TOO_MANY",
                format!("a cart holds at most {} lines", cart::MAX_LINES),
            ));
        }
        self.check_items("lines[{i}].catalog_item_id", &lines)?;
        let key = WriteKey {
            partner: partner.id,
            request_id,
            operation: "CreateCart",
            fingerprint: fingerprint(&(customer_id, &lines)),
        };
        let now = self.clock.now();
        let new = Cart {
            id: uuid::Uuid::now_v7(),
            customer_id,
            status: CartStatus::Active,
            lines: lines
                .into_iter()
                .map(|input| CartLine {
                    id: uuid::Uuid::now_v7(),
                    input,
                })
                .collect(),
            created_at: now,
            expires_at: now + cart::CART_LIFETIME,
            version: 1,
            order_id: None,
        };
        let cart = self.store.create_cart(partner.id, &key, &new, now).await?;
        self.review(caller, &partner, &standing, cart).await
    }

    pub async fn get(&self, caller: &Caller, id: uuid::Uuid) -> Result<ReviewedCart, DomainError> {
        let (partner, standing, cart) = self.load(caller, id, None).await?;
        self.review(caller, &partner, &standing, cart).await
    }

    pub async fn list(
        &self,
        caller: &Caller,
        customer_id: CustomerId,
        requested_page_size: i32,
        page_token: &str,
    ) -> Result<Page<ReviewedCart>, DomainError> {
        let limit = page_size(requested_page_size)?;
        let (partner, standing) = self.customers.buyer(caller, customer_id).await?;
        let query = format!("carts|{}|{customer_id}", partner.id);
        let after = self
            .tokens
            .decode(&query, page_token)?
            .map(|k| {
                uuid::Uuid::parse_str(&k).map_err(|_| {
                    DomainError::invalid(
                        "page_token",
                        "INVALID_PAGE_TOKEN",
                        "page_token is corrupt",
                    )
                })
            })
            .transpose()?;
        let carts = self
            .store
            .list_carts(partner.id, customer_id, after, limit as u64 + 1)
            .await?;
        let Page {
            items: carts,
            next_page_token,
        } = self
            .tokens
            .page(&query, limit, carts, |item| item.id.to_string());
        let catalog = self.catalog.snapshot();
        let now = self.clock.now();
        let buyer = buyer(
            &catalog,
            caller,
            &partner,
            &standing.customer,
            &standing.held.holdings,
            now,
        );
        let items = carts
            .into_iter()
            .map(|cart| {
                let review = cart::review(&buyer, &standing.held.parents, &cart.lines);
                ReviewedCart {
                    expired: cart.is_expired(now),
                    cart,
                    review,
                }
            })
            .collect();
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Adds, updates or removes a line.
    pub async fn change(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cart_id: uuid::Uuid,
        etag: Option<&str>,
        change: LineChange,
    ) -> Result<ReviewedCart, DomainError> {
        caller.require(caller.role.may_purchase(), "change carts")?;
        let partner_id = caller.partner()?;
        let (operation, body) = match &change {
            LineChange::Add(line) => ("AddCartLine", fingerprint(&(cart_id, etag, &line.input))),
            LineChange::Update(line) => ("UpdateCartLine", fingerprint(&(cart_id, etag, line))),
            LineChange::Remove(id) => ("RemoveCartLine", fingerprint(&(cart_id, etag, id))),
        };
        let key = WriteKey {
            partner: partner_id,
            request_id,
            operation,
            fingerprint: body,
        };
        let (partner, standing, cart) = self.load(caller, cart_id, etag).await?;
        let now = self.clock.now();
        if let Err(refused) = self.check_change(&cart, etag, &change, now) {
            // A retry of a change that went through answers with the cart as it is (its etag
            // is stale by then, a removed line gone).
            return match self.store.replayed(&key).await? {
                Some(_) => self.review(caller, &partner, &standing, cart).await,
                None => Err(refused),
            };
        }
        let cart = self
            .store
            .change_cart(partner.id, &key, &cart, &change, now)
            .await?;
        self.review(caller, &partner, &standing, cart).await
    }

    pub async fn delete(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cart_id: uuid::Uuid,
        etag: Option<&str>,
    ) -> Result<(), DomainError> {
        caller.require(caller.role.may_purchase(), "delete carts")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "DeleteCart",
            fingerprint: fingerprint(&(cart_id, etag)),
        };
        if self.store.replayed(&key).await?.is_some() {
            return Ok(());
        }
        let cart = self
            .store
            .cart(partner, cart_id)
            .await?
            .ok_or_else(|| not_found(cart_id))?;
        let now = self.clock.now();
        if cart.status == CartStatus::Ordered {
            return Err(DomainError::FailedPrecondition {
                message: "an ordered cart is kept with its order and cannot be deleted".into(),
                violations: Vec::new(),
            });
        }
        if let Some(etag) = etag
            && etag != cart.etag()
        {
            return Err(stale(&cart, etag));
        }
        self.store.delete_cart(partner, &key, &cart, now).await
    }

    /// Turns the cart into an order: atomic, idempotent, safe under concurrency.
    pub async fn checkout(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cart_id: uuid::Uuid,
        etag: &str,
    ) -> Result<Order, DomainError> {
        caller.require(caller.role.may_purchase(), "check out carts")?;
        let partner_id = caller.partner()?;
        let key = WriteKey {
            partner: partner_id,
            request_id,
            operation: "Checkout",
            fingerprint: cart_id.to_string(),
        };
        // No look-up of the request id first: a retry finds the cart ordered (answered below),
        // and a request id used for something else fails the checkout's write on its key.
        let cart = self
            .store
            .cart_at(partner_id, cart_id, Cart::version_in_etag(etag))
            .await?
            .ok_or_else(|| not_found(cart_id))?;
        if let (CartStatus::Ordered, Some(order_id)) = (cart.status, cart.order_id) {
            return self
                .store
                .order(partner_id, order_id)
                .await?
                .ok_or_else(|| {
                    DomainError::Internal(format!("ordered cart {cart_id} has no order {order_id}"))
                });
        }
        let now = self.clock.now();
        self.check_writable(&cart, Some(etag), now)?;
        // The rules first run on what this process cached of the customer's holdings, with
        // the version they were read at: the order is written only if that version still
        // holds (else they are read again and the rules run again).
        let (partner, standing) = self.customers.buyer(caller, cart.customer_id).await?;
        let customer = &standing.customer;
        let catalog = self.catalog.snapshot();
        let mut cached = Some(&standing.held).filter(|held| held.version.is_some());
        for _ in 0..CHECKOUT_ATTEMPTS {
            let read: CustomerHoldings;
            let held = match cached.take() {
                Some(cached) => cached,
                None => {
                    read = self
                        .store
                        .holdings(partner.id, cart.customer_id)
                        .await?
                        .ok_or_else(|| {
                            DomainError::not_found("customer", cart.customer_id.to_string())
                        })?;
                    &read
                }
            };
            let holdings_version = held
                .version
                .ok_or_else(|| DomainError::Internal("holdings read without a version".into()))?;
            let buyer = buyer(&catalog, caller, &partner, customer, &held.holdings, now);
            let review = cart::review(&buyer, &held.parents, &cart.lines);
            if !review.is_clean() {
                return Err(unclean(&review, customer.id));
            }
            let (mut order, subscriptions) = plan_order(&catalog, &cart, &review, now)?;
            order.id = uuid::Uuid::now_v7();
            let plan = PlannedOrder {
                cart: &cart,
                holdings_version,
                order: &order,
                subscriptions: &subscriptions,
            };
            let refusal = match self.store.place_order(partner.id, &key, plan, now).await? {
                Placement::Placed => {
                    tracing::info!(order = %order.id, number = %order.order_number, cart = %cart.id, "order placed");
                    return Ok(order);
                }
                Placement::Refused(refusal) => refusal,
            };
            match refusal {
                Refusal::Ordered(existing) => return Ok(existing),
                Refusal::NoCart => return Err(not_found(cart.id)),
                Refusal::Cart(current) => checkout_refused(&cart, &current, now)?,
            }
            // The cart is as it was: what the customer holds changed since it was read.
        }
        Err(DomainError::Aborted {
            reason: "CONCURRENT_UPDATE",
            message: "the customer's subscriptions kept changing during checkout: retry".into(),
        })
    }
}

/// How many times a checkout plans again when what the customer holds moved under it.
const CHECKOUT_ATTEMPTS: usize = 8;

/// Why a checkout's write of `planned` was refused, now that the cart is `current` (and not
/// ordered): it expired, or it changed; `Ok` if it is as planned on.
fn checkout_refused(planned: &Cart, current: &Cart, now: DateTime<Utc>) -> Result<(), DomainError> {
    if current.is_expired(now) {
        return Err(DomainError::FailedPrecondition {
            message: format!("the cart expired at {}", current.expires_at.to_rfc3339()),
            violations: Vec::new(),
        });
    }
    if current.version != planned.version || current.status != CartStatus::Active {
        return Err(DomainError::Aborted {
            reason: "ETAG_MISMATCH",
            message: format!(
                "the cart changed (etag {} now): review it again before checking out",
                current.etag()
            ),
        });
    }
    Ok(())
}

fn unclean(review: &Review, customer: CustomerId) -> DomainError {
    let violations = violations(review, customer);
    DomainError::FailedPrecondition {
        message: format!(
            "the cart cannot be checked out: {}",
            violations
                .iter()
                .map(|v| v.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        violations,
    }
}

/// The rules' view of `customer`, holding `holdings`, buying through `caller` at `now`.
fn buyer<'a>(
    catalog: &'a Catalog,
    caller: &Caller,
    partner: &'a Partner,
    customer: &'a Customer,
    holdings: &'a Holdings,
    now: DateTime<Utc>,
) -> Buyer<'a> {
    Buyer {
        catalog,
        partner,
        customer,
        role: caller.role,
        holdings,
        now,
    }
}

/// The order and one subscription per line, at the prices of the review.
fn plan_order(
    catalog: &Catalog,
    cart: &Cart,
    review: &Review,
    now: DateTime<Utc>,
) -> Result<(Order, Vec<Subscription>), DomainError> {
    let mut lines = Vec::with_capacity(review.lines.len());
    let mut subscriptions: Vec<Subscription> = Vec::with_capacity(review.lines.len());
    // Add-ons whose base is a line of this cart hang on that line's new subscription.
    let mut new_subscription_of = Vec::new();
    for reviewed in &review.lines {
        new_subscription_of.push((reviewed.line.input.item.clone(), SubscriptionId::new()));
    }
    let mut total: Option<Money> = None;
    for (index, reviewed) in review.lines.iter().enumerate() {
        let input = &reviewed.line.input;
        let (Some(unit_price), Some(extended_price)) =
            (reviewed.unit_price, reviewed.extended_price)
        else {
            return Err(DomainError::Internal(
                "a clean review has a line without a price".into(),
            ));
        };
        total = Some(match total {
            None => extended_price,
            Some(t) => {
                t.checked_add(extended_price)
                    .ok_or_else(|| DomainError::FailedPrecondition {
                        message: "the cart mixes currencies or its total overflows".into(),
                        violations: vec![Precondition {
                            code: "MIXED_CURRENCIES".into(),
                            subject: format!("carts/{}", cart.id),
                            description: "every line of an order is priced in one currency".into(),
                        }],
                    })?
            }
        });
        let item = catalog
            .item(&input.item)
            .ok_or_else(|| DomainError::Internal("a clean review has an unknown item".into()))?;
        let sku = item.sku.sku;
        let subscription_id = new_subscription_of[index].1;
        let parent = input.provisioning.parent_subscription.or_else(|| {
            sku.is_addon()
                .then(|| {
                    new_subscription_of.iter().find(|(base, _)| {
                        sku.prerequisites
                            .iter()
                            .any(|(p, s)| *p == base.product && *s == base.sku)
                    })
                })
                .flatten()
                .map(|(_, id)| *id)
        });
        lines.push(OrderLine {
            line_number: index as i32 + 1,
            item: input.item.clone(),
            product_title: reviewed.product_title.clone(),
            sku_title: reviewed.sku_title.clone(),
            quantity: input.quantity,
            term: input.term,
            billing_cycle: input.billing_cycle,
            unit_price,
            extended_price,
            subscription_id,
        });
        subscriptions.push(Subscription {
            id: subscription_id,
            customer_id: cart.customer_id,
            order_id: uuid::Uuid::nil(),
            item: input.item.clone(),
            title: reviewed.sku_title.clone(),
            quantity: input.quantity,
            term: input.term,
            billing_cycle: input.billing_cycle,
            status: SubscriptionStatus::Active,
            is_trial: sku.is_trial,
            start_at: now,
            commitment_end_at: term_end(input.term, now),
            auto_renew: !sku.is_trial && input.term != crate::domain::catalog::Term::None,
            parent,
            version: 1,
        });
    }
    let total = total.ok_or_else(|| DomainError::FailedPrecondition {
        message: "the cart has no lines".into(),
        violations: Vec::new(),
    })?;
    let random = uuid::Uuid::new_v4().as_u64_pair().0;
    Ok((
        Order {
            id: uuid::Uuid::nil(),
            order_number: order_number(random),
            customer_id: cart.customer_id,
            cart_id: cart.id,
            status: OrderStatus::Pending,
            lines,
            total,
            created_at: now,
            cancelled_at: None,
            refund: None,
            version: 1,
        },
        subscriptions,
    ))
}
