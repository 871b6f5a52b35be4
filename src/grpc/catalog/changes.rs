//! WatchCatalogChanges: the request parsed, the caller admitted under the stream limits, and
//! the status a stream ends with. Shared by the tonic handler and `grpc::watch`'s route.

use tonic::Status;

use super::CatalogApi;
use crate::domain::DomainError;
use crate::domain::customer::Caller;
use crate::domain::error::Violations;
use crate::domain::ids::{CountryCode, ProductId};
use crate::grpc::{convert, pb};
use crate::service::feed::{StallHandler, StreamEnd, Subscription, WatchFilter};

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
        let caller = crate::grpc::verified(caller)?;
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

pub(in crate::grpc) fn parse_watch(
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
    crate::grpc::check_count("countries", countries.len(), MAX_FILTER_COUNTRIES)?;
    crate::grpc::check_count("segments", segments.len(), MAX_FILTER_ENUMS)?;
    crate::grpc::check_count("product_types", product_types.len(), MAX_FILTER_ENUMS)?;
    crate::grpc::check_count("product_ids", product_ids.len(), MAX_FILTER_PRODUCTS)?;
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

pub(in crate::grpc) fn stream_end(end: StreamEnd) -> Status {
    use tonic_types::{ErrorDetails, StatusExt};
    let info = |reason: &str, resume_after: u64| {
        ErrorDetails::with_error_info(
            reason,
            crate::grpc::error::ERROR_DOMAIN,
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
        StreamEnd::Busy {
            reason,
            retry_after,
            resume_after,
        } => {
            let mut details = info(reason, resume_after);
            details.set_retry_info(Some(retry_after));
            Status::with_error_details(
                tonic::Code::Unavailable,
                format!(
                    "the service is busy: resume after revision {resume_after} in {} ms",
                    retry_after.as_millis()
                ),
                details,
            )
        }
        StreamEnd::Compacted {
            requested,
            oldest,
            rebuild_from,
        } => DomainError::RevisionCompacted {
            requested,
            oldest,
            rebuild_from,
        }
        .into(),
        StreamEnd::Failed(cause) => DomainError::Internal(cause).into(),
    }
}
