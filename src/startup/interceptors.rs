//! The authenticating interceptor of each service group, with its quotas.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::domain::customer::Role;
use crate::grpc::Authenticate;
use crate::grpc::quota::{FailedAuth, Quotas, ServiceGroup};

/// The interceptors of the catalog, customer, cart-and-order and admin services, each with its
/// group's quotas (carts and orders share theirs), and the limits they hold, to forget idle
/// callers.
pub(super) struct Interceptors {
    pub(super) catalog: Authenticate,
    pub(super) customers: Authenticate,
    pub(super) ordering: Authenticate,
    pub(super) admin: Authenticate,
    /// OperatorService: the admin group's quotas, for the `operator` role only.
    pub(super) operator: Authenticate,
    pub(super) limits: Limits,
}

/// The quotas and the failed-authentication limit.
pub(super) type Limits = (Vec<Quotas>, Option<Arc<FailedAuth>>);

impl Interceptors {
    pub(super) fn new(s: &Settings, keys: &Arc<TokenKeys>) -> Self {
        let n = s.quota_replicas;
        let quotas = [
            Quotas::new(
                ServiceGroup::Catalog,
                s.catalog_partner_requests_per_minute,
                s.catalog_user_requests_per_minute,
                n,
            ),
            Quotas::new(
                ServiceGroup::Customers,
                s.customer_partner_requests_per_minute,
                s.customer_user_requests_per_minute,
                n,
            ),
            Quotas::new(
                ServiceGroup::Ordering,
                s.partner_order_requests_per_minute,
                s.order_user_requests_per_minute,
                n,
            ),
            // The platform roles have no partner.
            Quotas::new(ServiceGroup::Admin, 0, s.admin_user_requests_per_minute, n),
        ];
        let failures = FailedAuth::new(s.failed_auth_per_minute, n);
        let [catalog, customers, ordering, admin] = quotas.clone().map(|q| {
            let auth = match q.group() {
                ServiceGroup::Admin => Authenticate::requiring(keys.clone(), Role::CatalogAdmin),
                _ => Authenticate::new(keys.clone()),
            };
            auth.throttled(q).limiting_failures(failures.clone())
        });
        let operator = Authenticate::requiring(keys.clone(), Role::Operator)
            .throttled(quotas[3].clone())
            .limiting_failures(failures.clone());
        Self {
            catalog,
            customers,
            ordering,
            admin,
            operator,
            limits: (quotas.to_vec(), failures),
        }
    }
}

/// Drops the quota state of callers idle for a while, so the keyed limits stay bounded.
pub(super) async fn forget_idle_callers((quotas, failures): Limits) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        quotas.iter().for_each(Quotas::forget_idle);
        if let Some(f) = &failures {
            f.forget_idle();
        }
    }
}
