//! Schema migrations: append-only, tables named by string, never importing entities.

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_carts_orders;
mod m0003_catalog_changes;
mod m0004_customer_change_notifications;
mod m0005_holdings_version;
mod m0006_holdings_announced_after_commit;
mod m0007_checkout_without_key_checks;
mod m0008_subscriptions_without_order_index;
mod m0009_partner_versions;
mod m0010_qualification_vetting;
mod m0011_partner_change_notifications;
mod m0012_review_queue_by_submission;
mod m0013_availabilities_by_sku;
mod m0014_subscription_transactions;
mod m0015_renewals;
mod m0017_trial_conversions;
mod m0018_subscription_events;
mod m0019_month_partitions;
mod m0020_staged_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_carts_orders::Migration),
            Box::new(m0003_catalog_changes::Migration),
            Box::new(m0004_customer_change_notifications::Migration),
            Box::new(m0005_holdings_version::Migration),
            Box::new(m0006_holdings_announced_after_commit::Migration),
            Box::new(m0007_checkout_without_key_checks::Migration),
            Box::new(m0008_subscriptions_without_order_index::Migration),
            Box::new(m0009_partner_versions::Migration),
            Box::new(m0010_qualification_vetting::Migration),
            Box::new(m0011_partner_change_notifications::Migration),
            Box::new(m0012_review_queue_by_submission::Migration),
            Box::new(m0013_availabilities_by_sku::Migration),
            Box::new(m0014_subscription_transactions::Migration),
            Box::new(m0015_renewals::Migration),
            Box::new(m0017_trial_conversions::Migration),
            Box::new(m0018_subscription_events::Migration),
            Box::new(m0019_month_partitions::Migration),
            Box::new(m0020_staged_changes::Migration),
        ]
    }
}
