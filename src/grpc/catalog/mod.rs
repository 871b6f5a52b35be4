//! CatalogService handlers: validate, convert, delegate. The request parsers they share with
//! the change-stream route live beside them: `filter` (catalog filters), `changes`
//! (WatchCatalogChanges: its request, its admission, how a stream ends).

mod changes;
mod filter;

use std::sync::Arc;

use tonic::{Request, Response, Status};

#[cfg(test)]
pub(super) use changes::parse_watch;
pub(super) use changes::stream_end;
pub(super) use filter::{parse_filter, parse_offer_filter};

use super::caller;
use super::convert::{self, optional_country, optional_month};
use super::pb;
use super::pb::catalog_service_server::CatalogService;
use super::wire::{self, EncodedCatalogs};
use crate::domain::DomainError;
use crate::domain::catalog::{billing_periods, line_charge};
use crate::domain::error::Violations;
use crate::domain::ids::{CatalogItemId, CustomerId, ProductId, SkuId};
use crate::service::catalog::{CatalogService as Catalog, View};
use crate::service::feed::{ChangeFeed, Delivery, FeedEvent};
use tokio_stream::StreamExt;

type BoxStream<T> =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

#[derive(Debug, Clone)]
pub struct CatalogApi {
    pub catalog: Catalog,
    pub feed: ChangeFeed,
    pub encoded: Arc<EncodedCatalogs>,
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn list_products(
        &self,
        request: Request<pb::ListProductsRequest>,
    ) -> Result<Response<wire::ListProductsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListProductsRequest {
            filter,
            view,
            page_size,
            page_token,
            month,
        } = request.into_inner();
        let mut v = Violations::new();
        let parsed = v.check(parse_filter(filter.unwrap_or_default()));
        let month = v.check(optional_month("month", &month)).flatten();
        if month.is_some() && parsed.as_ref().is_some_and(|(_, by)| by.is_some()) {
            v.push(not_for_a_customer("filter.purchasable_by_customer_id"));
        }
        v.into_result()?;
        let (filter, purchasable_by) =
            parsed.ok_or_else(|| Status::from(DomainError::parsed_field_missing()))?;
        // A listing's SKUs go without their countries unless asked (up to 240 each).
        let (view, with_countries) = match pb::CatalogView::try_from(view) {
            Ok(pb::CatalogView::Unspecified | pb::CatalogView::Product) => (View::Product, false),
            Ok(pb::CatalogView::Sku) => (View::Sku, false),
            Ok(pb::CatalogView::SkuWithCountries) => (View::Sku, true),
            Err(_) => {
                return Err(DomainError::invalid(
                    "view",
                    "UNKNOWN_ENUM_VALUE",
                    format!("view {view} is not a known value"),
                )
                .into());
            }
        };
        let page = self
            .catalog
            .list(
                &caller,
                filter,
                purchasable_by,
                view,
                page_size,
                &page_token,
                month,
            )
            .await?;
        let encoded = self.encoded.of(&page.catalog);
        let mut response = wire::ListProductsResponse {
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
            ..Default::default()
        };
        for (i, (product, sku)) in page.rows.iter().enumerate() {
            match sku {
                None => {
                    if let Some(p) = page.catalog.product(product) {
                        response
                            .products
                            .push(encoded.product(p, page.sku_counts.get(i).copied().unwrap_or(0)));
                    }
                }
                Some(sku) => {
                    if let Some(v) = page.catalog.sku(product, sku) {
                        response.skus.push(if with_countries {
                            encoded.sku(&v)
                        } else {
                            encoded.listed_sku(&v)
                        });
                    }
                }
            }
        }
        Ok(Response::new(response))
    }

    async fn get_product(
        &self,
        request: Request<pb::GetProductRequest>,
    ) -> Result<Response<pb::GetProductResponse>, Status> {
        caller(&request)?;
        let pb::GetProductRequest { product_id, month } = request.into_inner();
        let mut v = Violations::new();
        let id = v.check(ProductId::parse("product_id", &product_id));
        let month = v.check(optional_month("month", &month)).flatten();
        v.into_result()?;
        let id = id.ok_or_else(|| Status::from(DomainError::parsed_field_missing()))?;
        let (_, product, skus) = self.catalog.product(month, &id).await?;
        Ok(Response::new(pb::GetProductResponse {
            product: Some(convert::product(&product, skus)),
        }))
    }

    async fn list_skus(
        &self,
        request: Request<pb::ListSkusRequest>,
    ) -> Result<Response<wire::ListSkusResponse>, Status> {
        caller(&request)?;
        let pb::ListSkusRequest {
            product_id,
            country,
            segment,
            page_size,
            page_token,
            month,
        } = request.into_inner();
        let mut v = Violations::new();
        let product = v.check(ProductId::parse("product_id", &product_id));
        let country = v.check(optional_country("country", &country)).flatten();
        let segment = v
            .check(convert::optional_segment("segment", segment))
            .flatten();
        let month = v.check(optional_month("month", &month)).flatten();
        v.into_result()?;
        let product = product.ok_or_else(|| Status::from(DomainError::parsed_field_missing()))?;
        let (catalog, page) = self
            .catalog
            .skus(month, &product, country, segment, page_size, &page_token)
            .await?;
        let encoded = self.encoded.of(&catalog);
        Ok(Response::new(wire::ListSkusResponse {
            skus: page
                .items
                .iter()
                .filter_map(|sku| catalog.sku(&product, sku))
                .map(|v| encoded.sku(&v))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn get_sku(
        &self,
        request: Request<pb::GetSkuRequest>,
    ) -> Result<Response<wire::GetSkuResponse>, Status> {
        caller(&request)?;
        let pb::GetSkuRequest {
            product_id,
            sku_id,
            month,
        } = request.into_inner();
        let mut v = Violations::new();
        let product = v.check(ProductId::parse("product_id", &product_id));
        let sku = v.check(SkuId::parse("sku_id", &sku_id));
        let month = v.check(optional_month("month", &month)).flatten();
        v.into_result()?;
        let (Some(product), Some(sku)) = (product, sku) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let catalog = self.catalog.sku(month, &product, &sku).await?;
        let view = catalog
            .sku(&product, &sku)
            .ok_or_else(|| DomainError::not_found("sku", format!("{product}/{sku}")))?;
        Ok(Response::new(wire::GetSkuResponse {
            sku: self.encoded.of(&catalog).sku(&view),
        }))
    }

    async fn list_availabilities(
        &self,
        request: Request<pb::ListAvailabilitiesRequest>,
    ) -> Result<Response<wire::ListAvailabilitiesResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListAvailabilitiesRequest {
            product_id,
            sku_id,
            country,
            segment,
            page_size,
            page_token,
            customer_id,
            month,
        } = request.into_inner();
        let mut v = Violations::new();
        let product = v.check(ProductId::parse("product_id", &product_id));
        let sku = v.check(SkuId::parse("sku_id", &sku_id));
        let country = v.check(optional_country("country", &country)).flatten();
        let segment = v
            .check(convert::optional_segment("segment", segment))
            .flatten();
        let customer = (!customer_id.is_empty())
            .then(|| v.check(CustomerId::parse("customer_id", &customer_id)))
            .flatten();
        if !customer_id.is_empty() && (country.is_some() || segment.is_some()) {
            v.push(crate::domain::FieldViolation::new(
                "customer_id",
                "EXCLUSIVE_FIELDS",
                "customer_id stands in place of country and segment (the customer's own): send either customer_id or country and segment, not both",
            ));
        }
        let month = v.check(optional_month("month", &month)).flatten();
        if month.is_some() && !customer_id.is_empty() {
            v.push(not_for_a_customer("customer_id"));
        }
        v.into_result()?;
        let (Some(product), Some(sku)) = (product, sku) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let (catalog, page) = match customer {
            Some(customer) => (
                self.catalog.snapshot(),
                self.catalog
                    .availabilities_for(&caller, customer, &product, &sku, page_size, &page_token)
                    .await?,
            ),
            None => {
                self.catalog
                    .availabilities(
                        month,
                        &product,
                        &sku,
                        country,
                        segment,
                        page_size,
                        &page_token,
                    )
                    .await?
            }
        };
        let encoded = self.encoded.of(&catalog);
        Ok(Response::new(wire::ListAvailabilitiesResponse {
            availabilities: page.items.iter().map(|a| encoded.availability(a)).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_offers(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<wire::ListOffersResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListOffersRequest {
            customer_id,
            filter,
            page_size,
            page_token,
        } = request.into_inner();
        let mut v = Violations::new();
        let customer = v.check(CustomerId::parse("customer_id", &customer_id));
        let filter = v.check(parse_offer_filter(filter.unwrap_or_default()));
        v.into_result()?;
        let (Some(customer), Some(filter)) = (customer, filter) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let page = self
            .catalog
            .offers(&caller, customer, filter, page_size, &page_token)
            .await?;
        let encoded = self.encoded.of(&page.catalog);
        Ok(Response::new(wire::ListOffersResponse {
            offers: page
                .rows
                .iter()
                .filter_map(|row| {
                    let (view, availability) = row.resolve(&page.catalog)?;
                    Some(encoded.offer(&view, availability, usize::from(row.term)))
                })
                .collect(),
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
            customer_problems: page
                .customer_problems
                .iter()
                .map(convert::problem)
                .collect(),
        }))
    }

    async fn resolve_catalog_item(
        &self,
        request: Request<pb::ResolveCatalogItemRequest>,
    ) -> Result<Response<pb::ResolveCatalogItemResponse>, Status> {
        caller(&request)?;
        let pb::ResolveCatalogItemRequest {
            catalog_item_id,
            month,
        } = request.into_inner();
        let mut v = Violations::new();
        let id = v.check(CatalogItemId::parse("catalog_item_id", &catalog_item_id));
        let month = v.check(optional_month("month", &month)).flatten();
        v.into_result()?;
        let id = id.ok_or_else(|| Status::from(DomainError::parsed_field_missing()))?;
        let (catalog, id) = self.catalog.resolve(month, &id).await?;
        let item = catalog
            .item(&id)
            .ok_or_else(|| DomainError::not_found("catalog item", id.to_string()))?;
        Ok(Response::new(pb::ResolveCatalogItemResponse {
            product: Some(convert::product(
                item.product,
                catalog.skus_of(&item.product.id).count(),
            )),
            sku: Some(convert::sku(&item.sku)),
            availability: Some(convert::availability(item.availability, &catalog)),
        }))
    }

    async fn check_purchasability(
        &self,
        request: Request<pb::CheckPurchasabilityRequest>,
    ) -> Result<Response<pb::CheckPurchasabilityResponse>, Status> {
        let caller = caller(&request)?;
        let pb::CheckPurchasabilityRequest {
            customer_id,
            catalog_item_id,
            quantity,
            term,
            billing_cycle,
            month,
        } = request.into_inner();
        let mut v = Violations::new();
        let month = v.check(optional_month("month", &month)).flatten();
        let customer = v.check(CustomerId::parse("customer_id", &customer_id));
        let item = v.check(CatalogItemId::parse("catalog_item_id", &catalog_item_id));
        let term = v.check(convert::term("term", term));
        let cycle = v.check(convert::billing_cycle("billing_cycle", billing_cycle));
        if quantity <= 0 {
            v.push(crate::domain::FieldViolation::new(
                "quantity",
                "OUT_OF_RANGE",
                format!("quantity must be at least 1, got {quantity}"),
            ));
        }
        v.into_result()?;
        let (Some(customer), Some(item), Some(term), Some(cycle)) = (customer, item, term, cycle)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let verdict = self
            .catalog
            .check(&caller, customer, &item, quantity, term, cycle, month)
            .await?;
        Ok(Response::new(pb::CheckPurchasabilityResponse {
            purchasable: verdict.problems.is_empty(),
            problems: verdict.problems.iter().map(convert::problem).collect(),
            unit_term_price: verdict.unit_price.map(convert::money),
            term_price: verdict.extended_price.map(convert::money),
            billing_period_charge: verdict
                .unit_price
                .filter(|_| verdict.extended_price.is_some())
                .and_then(|unit| line_charge(unit, quantity, term, cycle))
                .map(convert::money),
            billing_periods: convert::periods(billing_periods(term, cycle)),
        }))
    }

    async fn watch_catalog_changes(
        &self,
        request: Request<pb::WatchCatalogChangesRequest>,
    ) -> Result<Response<BoxStream<wire::WatchCatalogChangesResponse>>, Status> {
        // Served by `watch::WatchRoute` in the server; this is the same call through tonic.
        let caller = request.extensions().get().copied();
        let user = super::watch::token_subject(request.metadata().as_ref());
        let deliveries = self
            .watch(caller, user.as_deref(), None, request.into_inner())
            .await?;
        let stream = deliveries.map(|delivery| {
            use wire::watch_catalog_changes_response::Event;
            match delivery {
                Delivery::Event(FeedEvent::Changes(batch)) => {
                    Ok(wire::WatchCatalogChangesResponse {
                        event: Some(Event::Changes(batch.plain)),
                    })
                }
                Delivery::Event(FeedEvent::Progress(revision)) => {
                    Ok(wire::WatchCatalogChangesResponse {
                        event: Some(Event::Progress(pb::WatchProgress {
                            current_revision: revision,
                        })),
                    })
                }
                Delivery::End(end) => Err(stream_end(end)),
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A read as of a month names no customer: what a customer may buy is judged on the current
/// month (INVALID_ARGUMENT on `field`).
fn not_for_a_customer(field: &str) -> crate::domain::FieldViolation {
    crate::domain::FieldViolation::new(
        field,
        "EXCLUSIVE_FIELDS",
        "what a customer may buy is judged on the current month: send either month or a customer, not both",
    )
}
