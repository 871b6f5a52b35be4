//! Carts: build, review (every rule, same as the purchasability check), check out.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Clock;
use super::catalog::{CatalogService, Page};
use super::customers::CustomerService;
use super::paging::{PageTokens, page_size};
use crate::domain::DomainError;
use crate::domain::cart::{self, Cart, CartLine, CartStatus, LineChange, LineInput, Review};
use crate::domain::catalog::Catalog;
use crate::domain::customer::{Caller, Customer, Partner};
use crate::domain::eligibility::{Buyer, Holdings};
use crate::domain::ids::{CartId, CustomerId, RequestId};
use crate::domain::order::Order;
use crate::store::{CustomerHoldings, Placement, PlannedOrder, Refusal, Standing, Store, WriteKey};

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

fn not_found(id: CartId) -> DomainError {
    DomainError::not_found(CartId::RESOURCE, id.to_string())
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
    /// what it cached at that version.
    async fn load(
        &self,
        caller: &Caller,
        id: CartId,
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

    pub async fn create(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        customer_id: CustomerId,
        lines: Vec<LineInput>,
    ) -> Result<ReviewedCart, DomainError> {
        caller.require(caller.role.may_purchase(), "create carts")?;
        let (partner, standing) = self.customers.buyer(caller, customer_id).await?;
        cart::check_new_lines(&self.catalog.snapshot(), &lines)?;
        let key = WriteKey {
            partner: partner.id,
            request_id,
            operation: "CreateCart",
            fingerprint: fingerprint(&(customer_id, &lines)),
        };
        let now = self.clock.now();
        let new = Cart {
            id: CartId::new(),
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

    pub async fn get(&self, caller: &Caller, id: CartId) -> Result<ReviewedCart, DomainError> {
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
                uuid::Uuid::parse_str(&k).map(CartId::from).map_err(|_| {
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
        cart_id: CartId,
        etag: Option<&str>,
        change: LineChange,
    ) -> Result<ReviewedCart, DomainError> {
        caller.require(caller.role.may_purchase(), "change carts")?;
        let partner_id = caller.partner()?;
        // The bare UUID, as in the fingerprints already recorded with request ids.
        let id = cart_id.as_uuid();
        let (operation, body) = match &change {
            LineChange::Add(line) => ("AddCartLine", fingerprint(&(id, etag, &line.input))),
            LineChange::Update(line) => ("UpdateCartLine", fingerprint(&(id, etag, line))),
            LineChange::Remove(line) => ("RemoveCartLine", fingerprint(&(id, etag, line))),
        };
        let key = WriteKey {
            partner: partner_id,
            request_id,
            operation,
            fingerprint: body,
        };
        let (partner, standing, cart) = self.load(caller, cart_id, etag).await?;
        let now = self.clock.now();
        if let Err(refused) = cart.check_change(&change, etag, &self.catalog.snapshot(), now) {
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
        cart_id: CartId,
        etag: Option<&str>,
    ) -> Result<(), DomainError> {
        caller.require(caller.role.may_purchase(), "delete carts")?;
        let partner = caller.partner()?;
        let key = WriteKey {
            partner,
            request_id,
            operation: "DeleteCart",
            fingerprint: fingerprint(&(cart_id.as_uuid(), etag)),
        };
        if self.store.replayed(&key).await?.is_some() {
            return Ok(());
        }
        let cart = self
            .store
            .cart(partner, cart_id)
            .await?
            .ok_or_else(|| not_found(cart_id))?;
        cart.deletable(etag)?;
        self.store
            .delete_cart(partner, &key, &cart, self.clock.now())
            .await
    }

    /// Turns the cart into an order: atomic, idempotent, safe under concurrency.
    pub async fn checkout(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cart_id: CartId,
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
        cart.writable(Some(etag), now)?;
        // The rules first run on what this process cached of the customer's holdings, with
        // the version they were read at: the order is written only if that version still
        // holds (else they are read again and the rules run again).
        let (partner, standing) = self.customers.buyer(caller, cart.customer_id).await?;
        let mut customer = standing.customer.clone();
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
            let buyer = buyer(&catalog, caller, &partner, &customer, &held.holdings, now);
            let review = cart::review(&buyer, &held.parents, &cart.lines);
            let (order, subscriptions) = Order::plan(&catalog, &cart, &review, now)?;
            let plan = PlannedOrder {
                cart: &cart,
                holdings_version,
                profile_version: customer.version,
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
                Refusal::Cart(current) => current.still_at(cart.version, now)?,
            }
            // The cart is as it was: the customer's profile or what it holds changed since
            // they were read (perhaps only in this process's cache): read both again.
            self.store.forget_standing(cart.customer_id);
            customer = Arc::new(
                self.store
                    .customer(partner.id, cart.customer_id)
                    .await?
                    .ok_or_else(|| {
                        DomainError::not_found("customer", cart.customer_id.to_string())
                    })?,
            );
        }
        Err(DomainError::Aborted {
            reason: "CONCURRENT_UPDATE",
            current_etag: None,
            message: "the customer kept changing during checkout: retry".into(),
        })
    }
}

/// How many times a checkout plans again when what the customer holds moved under it.
const CHECKOUT_ATTEMPTS: usize = 8;

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
