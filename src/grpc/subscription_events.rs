//! SubscriptionEventService: WatchSubscriptionEvents, the partner's subscription events
//! (`service::feed::SubscriptionEventFeed`). The caller's partner comes from its token; a
//! customer filter names one of the partner's customers (another partner's is NOT_FOUND).

use futures::StreamExt;
use tonic::{Request, Response, Status};

type BoxStream<T> = std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send>>;

use std::sync::Arc;

use super::catalog::stream_end;
use super::listener::Connections;
use super::pb::subscription_event_service_server::SubscriptionEventService;
use super::{caller, pb, wire};
use crate::domain::DomainError;
use crate::domain::error::FieldViolation;
use crate::domain::ids::CustomerId;
use crate::service::customers::CustomerService;
use crate::service::feed::{Delivery, FeedEvent, StallHandler, SubscriptionEventFeed};

#[derive(Clone)]
pub struct SubscriptionEventApi {
    pub feed: SubscriptionEventFeed,
    pub customers: CustomerService,
    /// Each connection's kill switch, as `watch.rs` takes it.
    pub connections: Arc<Connections>,
}

#[tonic::async_trait]
impl SubscriptionEventService for SubscriptionEventApi {
    async fn watch_subscription_events(
        &self,
        request: Request<pb::WatchSubscriptionEventsRequest>,
    ) -> Result<Response<BoxStream<wire::WatchSubscriptionEventsResponse>>, Status> {
        use pb::watch_subscription_events_request::Start;
        let caller = caller(&request)?;
        let user = super::watch::token_subject(request.metadata().as_ref());
        // The connection's kill switch, found by the peer's address: ended by the watchdog
        // when the stream's subscriber takes nothing and hyper does not poll it; held open
        // against the idle timeout while the stream lives (over gRPC-Web the client sends
        // nothing while it reads; over HTTP/2 keepalive pings answer for it anyway).
        let switch = request
            .remote_addr()
            .and_then(|peer| self.connections.kill_switch(peer));
        let held = switch.as_ref().map(|switch| switch.hold_open());
        let on_stall: Option<StallHandler> =
            switch.map(|switch| Box::new(move || switch.kill()) as StallHandler);
        let pb::WatchSubscriptionEventsRequest { start, customer_id } = request.into_inner();
        let after = match start {
            Some(Start::AfterRevision(r)) => Some(r),
            Some(Start::FromNow(true)) => None,
            Some(Start::FromNow(false)) | None => {
                return Err(DomainError::InvalidArgument(vec![FieldViolation::new(
                    "start",
                    "REQUIRED",
                    "say where to start: after_revision, or from_now = true",
                )])
                .into());
            }
        };
        let customer = (!customer_id.is_empty())
            .then(|| CustomerId::parse("customer_id", &customer_id))
            .transpose()?;
        let partner = caller.partner()?;
        if let Some(customer) = customer {
            // The partner's own customer, or NOT_FOUND like any other read of it.
            self.customers.get(&caller, customer).await?;
        }
        // Before anything is read: a refused caller costs nothing more.
        let slot = self.feed.admit(partner, user.as_deref())?;
        let start = self.feed.start_position(partner, after).await?;
        let deliveries = self
            .feed
            .subscribe(partner, customer, start, slot, on_stall);
        let stream = deliveries.map(move |delivery| {
            let _held = &held;
            use wire::watch_subscription_events_response::Event;
            match delivery {
                Delivery::Event(FeedEvent::Changes(batch)) => {
                    Ok(wire::WatchSubscriptionEventsResponse {
                        event: Some(Event::Events(batch.plain)),
                    })
                }
                Delivery::Event(FeedEvent::Progress(revision)) => {
                    Ok(wire::WatchSubscriptionEventsResponse {
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
