//! CatalogService handlers: validate, convert, delegate.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::caller;
use super::convert::{self, optional_country};
use super::pb;
use super::pb::catalog_service_server::CatalogService;
use super::wire::{self, EncodedCatalogs};
use crate::domain::DomainError;
use crate::domain::catalog::CatalogFilter;
use crate::domain::customer::Caller;
use crate::domain::error::Violations;
use crate::domain::ids::CountryCode;
use crate::domain::ids::{CatalogItemId, CustomerId, ProductId, SkuId};
use crate::service::catalog::{CatalogService as Catalog, View};
use crate::service::feed::{
    ChangeFeed, Delivery, FeedEvent, StallHandler, StreamEnd, Subscription, WatchFilter,
};
use tokio_stream::StreamExt;

type BoxStream<T> =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

#[derive(Debug, Clone)]
pub struct CatalogApi {
    pub catalog: Catalog,
    pub feed: ChangeFeed,
    pub encoded: Arc<EncodedCatalogs>,
}

impl CatalogApi {
    /// A `WatchCatalogChanges` call of `caller` (verified by the interceptor) as `user` (the
    /// token's subject): what it will be sent, or why not. `on_stall` ends the stream's
    /// connection when its subscriber takes nothing and the stream is not polled.
    pub async fn watch(
        &self,
        caller: Option<Caller>,
        user: Option<&str>,
        on_stall: Option<StallHandler>,
        request: pb::WatchCatalogChangesRequest,
    ) -> Result<Subscription, Status> {
        let caller = super::verified(caller)?;
        let (after, filter) = parse_watch(request)?;
        // Before anything is read: a refused caller costs nothing more.
        let slot = self.feed.admit(caller.partner, user)?;
        let after = self.feed.start_position(after).await?;
        Ok(self.feed.subscribe(after, filter, slot, on_stall))
    }
}

/// Entries a change-stream filter may list: every country there is, each enum value a few
/// times over, and a generous list of products.
const MAX_FILTER_COUNTRIES: usize = 250;
const MAX_FILTER_ENUMS: usize = 16;
const MAX_FILTER_PRODUCTS: usize = 1_000;

pub(super) fn parse_watch(
    request: pb::WatchCatalogChangesRequest,
) -> Result<(Option<u64>, WatchFilter), DomainError> {
    use pb::watch_catalog_changes_request::Start;
    let pb::WatchCatalogChangesRequest {
        start,
        countries,
        segments,
        product_types,
        product_ids,
    } = request;
    // Counted before anything is parsed; a filter longer than these matches nothing more.
    super::check_count("countries", countries.len(), MAX_FILTER_COUNTRIES)?;
    super::check_count("segments", segments.len(), MAX_FILTER_ENUMS)?;
    super::check_count("product_types", product_types.len(), MAX_FILTER_ENUMS)?;
    super::check_count("product_ids", product_ids.len(), MAX_FILTER_PRODUCTS)?;
    let mut v = Violations::new();
    let after = match start {
        Some(Start::AfterRevision(r)) => Some(r),
        Some(Start::FromNow(true)) => None,
        Some(Start::FromNow(false)) | None => {
            v.push(crate::domain::FieldViolation::new(
                "start",
                "REQUIRED",
                "say where to start: after_revision, or from_now = true",
            ));
            None
        }
    };
    let mut filter = WatchFilter::default();
    for (i, c) in countries.iter().enumerate() {
        if let Some(c) = v.check(CountryCode::parse(&format!("countries[{i}]"), c)) {
            filter.countries.push(c);
        }
    }
    for (i, s) in segments.iter().enumerate() {
        match v.check(convert::optional_segment(&format!("segments[{i}]"), *s)) {
            Some(Some(s)) => filter.segments.push(s),
            Some(None) => v.push(crate::domain::FieldViolation::new(
                format!("segments[{i}]"),
                "REQUIRED",
                "SEGMENT_UNSPECIFIED is not a filter",
            )),
            None => {}
        }
    }
    for (i, t) in product_types.iter().enumerate() {
        match v.check(convert::optional_product_type(
            &format!("product_types[{i}]"),
            *t,
        )) {
            Some(Some(t)) => filter.product_types.push(t),
            Some(None) => v.push(crate::domain::FieldViolation::new(
                format!("product_types[{i}]"),
                "REQUIRED",
                "PRODUCT_TYPE_UNSPECIFIED is not a filter",
            )),
            None => {}
        }
    }
    for (i, p) in product_ids.iter().enumerate() {
        if let Some(p) = v.check(ProductId::parse(&format!("product_ids[{i}]"), p)) {
            filter.product_ids.push(p.to_string());
        }
    }
    v.into_result()?;
    Ok((after, filter))
}

pub(super) fn stream_end(end: StreamEnd) -> Status {
    use tonic_types::{ErrorDetails, StatusExt};
    let info = |reason: &str, resume_after: u64| {
        ErrorDetails::with_error_info(
            reason,
            super::error::ERROR_DOMAIN,
            [("resume_after_revision".to_owned(), resume_after.to_string())],
        )
    };
    match end {
        StreamEnd::ShuttingDown { resume_after } => Status::with_error_details(
            tonic::Code::Unavailable,
            format!(
                "the server is shutting down: reconnect and resume after revision {resume_after}"
            ),
            info("SERVER_SHUTTING_DOWN", resume_after),
        ),
        StreamEnd::TooSlow { resume_after } => Status::with_error_details(
            tonic::Code::ResourceExhausted,
            format!("the subscriber did not keep up: resume after revision {resume_after}"),
            info("SUBSCRIBER_TOO_SLOW", resume_after),
        ),
        StreamEnd::Busy { resume_after } => {
            let mut details = info("DATABASE_BUSY", resume_after);
            details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            Status::with_error_details(
                tonic::Code::Unavailable,
                format!("the service is busy: resume after revision {resume_after} in a second"),
                details,
            )
        }
        StreamEnd::Failed(cause) => DomainError::Internal(cause).into(),
    }
}

pub(super) fn parse_filter(
    filter: pb::CatalogFilter,
) -> Result<(CatalogFilter, Option<CustomerId>), DomainError> {
    let pb::CatalogFilter {
        country,
        segment,
        product_type,
        publisher,
        billing_type,
        category,
        trial,
        text,
        purchasable_by_customer_id,
    } = filter;
    let mut v = Violations::new();
    let country = v
        .check(optional_country("filter.country", &country))
        .flatten();
    let segment = v
        .check(convert::optional_segment("filter.segment", segment))
        .flatten();
    let product_type = v
        .check(convert::optional_product_type(
            "filter.product_type",
            product_type,
        ))
        .flatten();
    let billing_type = v
        .check(convert::optional_billing_type(
            "filter.billing_type",
            billing_type,
        ))
        .flatten();
    let microsoft = match pb::PublisherFilter::try_from(publisher) {
        Ok(pb::PublisherFilter::Unspecified) => None,
        Ok(pb::PublisherFilter::Microsoft) => Some(true),
        Ok(pb::PublisherFilter::ThirdParty) => Some(false),
        Err(_) => {
            v.push(crate::domain::FieldViolation::new(
                "filter.publisher",
                "UNKNOWN_ENUM_VALUE",
                format!("filter.publisher {publisher} is not a known value"),
            ));
            None
        }
    };
    let trial = match pb::TrialFilter::try_from(trial) {
        Ok(pb::TrialFilter::Unspecified) => None,
        Ok(pb::TrialFilter::OnlyTrials) => Some(true),
        Ok(pb::TrialFilter::NoTrials) => Some(false),
        Err(_) => {
            v.push(crate::domain::FieldViolation::new(
                "filter.trial",
                "UNKNOWN_ENUM_VALUE",
                format!("filter.trial {trial} is not a known value"),
            ));
            None
        }
    };
    let category = v.check(crate::domain::ids::parse_text(
        "filter.category",
        &category,
        false,
    ));
    let text = v.check(crate::domain::ids::parse_text("filter.text", &text, false));
    let purchasable_by = if purchasable_by_customer_id.is_empty() {
        None
    } else {
        v.check(CustomerId::parse(
            "filter.purchasable_by_customer_id",
            &purchasable_by_customer_id,
        ))
    };
    v.into_result()?;
    Ok((
        CatalogFilter {
            country,
            segment,
            product_type,
            microsoft,
            billing_type,
            category: category.filter(|c| !c.is_empty()).map(|c| c.to_lowercase()),
            trial,
            words: text
                .unwrap_or_default()
                .to_lowercase()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        },
        purchasable_by,
    ))
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
        } = request.into_inner();
        let (filter, purchasable_by) = parse_filter(filter.unwrap_or_default())?;
        let view = match pb::CatalogView::try_from(view) {
            Ok(pb::CatalogView::Unspecified | pb::CatalogView::Product) => View::Product,
            Ok(pb::CatalogView::Sku) => View::Sku,
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
                        response.skus.push(encoded.sku(&v));
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
        let pb::GetProductRequest { product_id } = request.into_inner();
        let id = ProductId::parse("product_id", &product_id)?;
        let (_, product, skus) = self.catalog.product(&id)?;
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
        } = request.into_inner();
        let mut v = Violations::new();
        let product = v.check(ProductId::parse("product_id", &product_id));
        let country = v.check(optional_country("country", &country)).flatten();
        let segment = v
            .check(convert::optional_segment("segment", segment))
            .flatten();
        v.into_result()?;
        let product = product.ok_or_else(|| {
            Status::from(DomainError::Internal(
                "a parsed field was missing after validation".into(),
            ))
        })?;
        let (catalog, page) =
            self.catalog
                .skus(&product, country, segment, page_size, &page_token)?;
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
        let pb::GetSkuRequest { product_id, sku_id } = request.into_inner();
        let mut v = Violations::new();
        let product = v.check(ProductId::parse("product_id", &product_id));
        let sku = v.check(SkuId::parse("sku_id", &sku_id));
        v.into_result()?;
        let (Some(product), Some(sku)) = (product, sku) else {
            return Err(DomainError::Internal(
                "a parsed field was missing after validation".into(),
            )
            .into());
        };
        let catalog = self.catalog.sku(&product, &sku)?;
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
        caller(&request)?;
        let pb::ListAvailabilitiesRequest {
            product_id,
            sku_id,
            country,
            segment,
            page_size,
            page_token,
        } = request.into_inner();
        let mut v = Violations::new();
        let product = v.check(ProductId::parse("product_id", &product_id));
        let sku = v.check(SkuId::parse("sku_id", &sku_id));
        let country = v.check(optional_country("country", &country)).flatten();
        let segment = v
            .check(convert::optional_segment("segment", segment))
            .flatten();
        v.into_result()?;
        let (Some(product), Some(sku)) = (product, sku) else {
            return Err(DomainError::Internal(
                "a parsed field was missing after validation".into(),
            )
            .into());
        };
        let page = self.catalog.availabilities(
            &product,
            &sku,
            country,
            segment,
            page_size,
            &page_token,
        )?;
        let encoded = self.encoded.of(&self.catalog.snapshot());
        Ok(Response::new(wire::ListAvailabilitiesResponse {
            availabilities: page.items.iter().map(|a| encoded.availability(a)).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn resolve_catalog_item(
        &self,
        request: Request<pb::ResolveCatalogItemRequest>,
    ) -> Result<Response<pb::ResolveCatalogItemResponse>, Status> {
        caller(&request)?;
        let pb::ResolveCatalogItemRequest { catalog_item_id } = request.into_inner();
        let id = CatalogItemId::parse("catalog_item_id", &catalog_item_id)?;
        let (catalog, id) = self.catalog.resolve(&id)?;
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
        } = request.into_inner();
        let mut v = Violations::new();
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
            return Err(DomainError::Internal(
                "a parsed field was missing after validation".into(),
            )
            .into());
        };
        let verdict = self
            .catalog
            .check(&caller, customer, &item, quantity, term, cycle)
            .await?;
        Ok(Response::new(pb::CheckPurchasabilityResponse {
            purchasable: verdict.problems.is_empty(),
            problems: verdict.problems.iter().map(convert::problem).collect(),
            unit_price: verdict.unit_price.map(convert::money),
            extended_price: verdict.extended_price.map(convert::money),
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
