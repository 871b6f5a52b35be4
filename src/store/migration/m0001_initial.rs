//! Partners, customers and their qualifications, idempotency keys, the monthly catalog
//! (price lists, products, SKUs with prerequisites, availabilities, term prices) and the
//! subscriptions that eligibility counts seats from.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

fn ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}

fn ts_null(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("partners")
                .col(string("id").primary_key())
                .col(string_uniq("key"))
                .col(string("name"))
                .col(string_len("country", 2))
                .col(string_len("currency", 3))
                .col(boolean("gcc"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("customers")
                .col(string("id").primary_key())
                .col(string("partner_id"))
                .col(string("company_name"))
                .col(string_len("country", 2))
                .col(string("email"))
                .col(string("domain"))
                .col(string_null("agreement_contact_name"))
                .col(string_null("agreement_contact_email"))
                .col(ts_null("agreement_accepted_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(big_integer("version"))
                .foreign_key(
                    ForeignKey::create()
                        .from("customers", "partner_id")
                        .to("partners", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("customers_by_partner")
                .table("customers")
                .col("partner_id")
                .col("id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("customer_qualifications")
                .col(string("customer_id"))
                .col(string("kind"))
                .col(string("vetting_status"))
                .col(ts("updated_at"))
                .primary_key(Index::create().col("customer_id").col("kind"))
                .foreign_key(
                    ForeignKey::create()
                        .from("customer_qualifications", "customer_id")
                        .to("customers", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        // A request id is remembered per partner: a retry returns the first result, the same id
        // with another request is refused.
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string("partner_id"))
                .col(string("request_id"))
                .col(string("operation"))
                .col(string("fingerprint"))
                .col(string("resource_id"))
                .col(ts("created_at"))
                .primary_key(Index::create().col("partner_id").col("request_id"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("price_lists")
                .col(string_len("month", 7).primary_key())
                .col(string("status"))
                .col(ts("imported_at"))
                .col(ts_null("published_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("products")
                .col(string_len("month", 7))
                .col(string("id"))
                .col(string("title"))
                .col(text("description"))
                .col(string("product_type"))
                .col(string("publisher"))
                .col(string("billing_type"))
                .col(string("category"))
                .primary_key(Index::create().col("month").col("id"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("skus")
                .col(string_len("month", 7))
                .col(string("product_id"))
                .col(string("id"))
                .col(string("title"))
                .col(text("description"))
                .col(integer("min_quantity"))
                .col(integer("max_quantity"))
                .col(boolean("is_trial"))
                .col(integer_null("seat_limit"))
                .col(string("seat_limit_type"))
                .col(string("unit_of_measure"))
                .col(string("category"))
                .col(boolean("is_reservation"))
                .col(string("provisioning_id"))
                .primary_key(Index::create().col("month").col("product_id").col("id"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sku_prerequisites")
                .col(string_len("month", 7))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("prerequisite_product_id"))
                .col(string("prerequisite_sku_id"))
                .primary_key(
                    Index::create()
                        .col("month")
                        .col("product_id")
                        .col("sku_id")
                        .col("prerequisite_product_id")
                        .col("prerequisite_sku_id"),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("availabilities")
                .col(string_len("month", 7))
                .col(string("id"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string_len("country", 2))
                .col(string("segment"))
                .col(string_len("currency", 3))
                .col(ts_null("end_of_sale"))
                .primary_key(Index::create().col("month").col("id"))
                .to_owned(),
        )
        .await?;

        // Prices are integer micro-units of the availability's currency: exact on both backends.
        m.create_table(
            Table::create()
                .table("availability_prices")
                .col(string_len("month", 7))
                .col(string("availability_id"))
                .col(string("term"))
                .col(string("billing_cycle"))
                .col(big_integer("unit_price_micros"))
                .col(big_integer("erp_price_micros"))
                .col(ts("effective_start"))
                .col(ts_null("effective_end"))
                .primary_key(
                    Index::create()
                        .col("month")
                        .col("availability_id")
                        .col("term")
                        .col("billing_cycle"),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("subscriptions")
                .col(string("id").primary_key())
                .col(string("partner_id"))
                .col(string("customer_id"))
                .col(string("order_id"))
                .col(string("product_id"))
                .col(string("sku_id"))
                .col(string("availability_id"))
                .col(integer("quantity"))
                .col(string("term"))
                .col(string("billing_cycle"))
                .col(string("status"))
                .col(boolean("is_trial"))
                .col(string_null("parent_subscription_id"))
                .col(ts("start_at"))
                .col(ts_null("commitment_end_at"))
                .col(boolean("auto_renew"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(big_integer("version"))
                .foreign_key(
                    ForeignKey::create()
                        .from("subscriptions", "customer_id")
                        .to("customers", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("subscriptions_by_customer")
                .table("subscriptions")
                .col("customer_id")
                .col("product_id")
                .col("sku_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "subscriptions",
            "availability_prices",
            "availabilities",
            "sku_prerequisites",
            "skus",
            "products",
            "price_lists",
            "idempotency_keys",
            "customer_qualifications",
            "customers",
            "partners",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
