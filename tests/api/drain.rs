//! The server process on SIGTERM: NOT_SERVING at once while it serves on for the drain
//! grace, then open change streams end with their revision to resume after, and it exits 0;
//! a second signal during the drain ends it at once.

use crate::common::{self, ServerProcess, health_becomes};
use csp_commerce::grpc::pb;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

async fn started(dir: &std::path::Path, grace_ms: &str) -> (ServerProcess, Channel) {
    let url = format!("sqlite://{}", dir.join("drain.sqlite").display());
    let server = ServerProcess::start(&url, &[("CSP_DRAIN_GRACE_MS", grace_ms)]).await;
    let channel = Channel::from_shared(server.addr.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    (server, channel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_reports_not_serving_serves_on_then_ends_streams_with_where_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough that the calls below land inside it on a slow machine.
    let (mut server, channel) = started(dir.path(), "8000").await;
    let bearer = common::us_sales_agent("drain");
    let mut catalog =
        pb::catalog_service_client::CatalogServiceClient::with_interceptor(channel.clone(), bearer);
    let (mut stream, head) = common::watch_from_now(&mut catalog).await;
    health_becomes(&channel, "", ServingStatus::Serving).await;

    server.signal("TERM");
    for service in [
        "",
        "csp.commerce.v1.CatalogService",
        "csp.commerce.v1.CartService",
    ] {
        health_becomes(&channel, service, ServingStatus::NotServing).await;
    }
    // Draining, not stopped: a call is still answered.
    let products = catalog
        .list_products(pb::ListProductsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("a call during the drain grace is served")
        .into_inner();
    assert_eq!(products.products.len(), 1);

    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let info = common::details(&status).error_info().unwrap().clone();
    assert_eq!(info.reason, "SERVER_SHUTTING_DOWN");
    assert_eq!(info.metadata["resume_after_revision"], head.to_string());
    let exit = server.exited().await;
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_during_the_drain_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // Far longer than `exited` waits: only the second signal can end it in time.
    let (mut server, channel) = started(dir.path(), "600000").await;
    server.signal("TERM");
    health_becomes(&channel, "", ServingStatus::NotServing).await;
    server.signal("INT");
    let exit = server.exited().await;
    assert_eq!(exit.code(), Some(130), "{exit:?}");
}
