//! SeaORM entities: one module per table. Rows only; the store converts them to domain types.

pub mod availability;
pub mod availability_price;
pub mod cart;
pub mod cart_line;
pub mod catalog_change;
pub mod catalog_state;
pub mod customer;
pub mod customer_qualification;
pub mod idempotency_key;
pub mod order;
pub mod order_line;
pub mod partner;
pub mod price_list;
pub mod product;
pub mod sku;
pub mod sku_prerequisite;
pub mod staged_diff;
pub mod subscription;
pub mod subscription_event;
pub mod subscription_event_head;
pub mod subscription_transaction;
