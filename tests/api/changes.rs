//! Monthly price lists and the catalog-change stream, through the wire: import, diff, publish
//! (atomic, once), and WatchCatalogChanges (replay then live with no gap and no duplicate,
//! resume, compaction, filters, progress, slow subscribers, shutdown, two replicas).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{self, Backend, TestApp, rid};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::watch_catalog_changes_request::Start;
use pb::watch_catalog_changes_response::Event;
use tonic::{Code, Streaming};

/// An import of the demo's `month`.
fn import_request(month: &str) -> pb::ImportMonthRequest {
    common::month_request(month, &common::demo_dir(month))
}

async fn import_december(app: &TestApp) -> pb::ImportMonthResponse {
    common::upload(
        &mut app.admin(None, Role::CatalogAdmin),
        &import_request("2026-12"),
    )
    .await
    .unwrap()
    .into_inner()
}

async fn publish(app: &TestApp, month: &str) -> Result<pb::PublishMonthResponse, tonic::Status> {
    app.admin(None, Role::CatalogAdmin)
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: month.into(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn all_month_changes(app: &TestApp, month: &str) -> Vec<pb::CatalogChange> {
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_month_changes(pb::ListMonthChangesRequest {
                month: month.into(),
                page_size: 100,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.changes);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

async fn watch(
    app: &TestApp,
    request: pb::WatchCatalogChangesRequest,
) -> Result<Streaming<pb::WatchCatalogChangesResponse>, tonic::Status> {
    app.catalog("us", Role::HelpdeskAgent)
        .watch_catalog_changes(request)
        .await
        .map(|r| r.into_inner())
}

fn after(revision: u64) -> pb::WatchCatalogChangesRequest {
    pb::WatchCatalogChangesRequest {
        start: Some(Start::AfterRevision(revision)),
        ..Default::default()
    }
}

/// Reads until revision `until` was delivered or announced by a progress message; returns the
/// changes.
async fn read_until(
    stream: &mut Streaming<pb::WatchCatalogChangesResponse>,
    until: u64,
) -> Vec<pb::CatalogChange> {
    let mut changes: Vec<pb::CatalogChange> = Vec::new();
    loop {
        if changes.last().is_some_and(|c| c.revision >= until) {
            return changes;
        }
        let message = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the stream stalled")
            .unwrap()
            .expect("the stream ended");
        match message.event.unwrap() {
            Event::Changes(batch) => changes.extend(batch.changes),
            Event::Progress(p) if p.current_revision >= until => return changes,
            Event::Progress(_) => {}
        }
    }
}

/// Reads the replay: every change up to the first progress message, which follows it.
async fn read_caught_up(
    stream: &mut Streaming<pb::WatchCatalogChangesResponse>,
) -> Vec<pb::CatalogChange> {
    let mut changes = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the stream stalled")
            .unwrap()
            .expect("the stream ended");
        match message.event.unwrap() {
            Event::Changes(batch) => changes.extend(batch.changes),
            Event::Progress(_) => return changes,
        }
    }
}

fn revisions(changes: &[pb::CatalogChange]) -> Vec<u64> {
    changes.iter().map(|c| c.revision).collect()
}

fn find<'a>(
    changes: &'a [pb::CatalogChange],
    product: &str,
    sku: &str,
    kind: pb::ChangeKind,
) -> Vec<&'a pb::CatalogChange> {
    changes
        .iter()
        .filter(|c| c.product_id == product && c.sku_id == sku && c.kind == kind as i32)
        .collect()
}

on_both_backends!(
    a_month_is_diffed_before_publishing,
    async |app: &TestApp| {
        let imported = import_december(app).await;
        assert_eq!(imported.month, "2026-12");
        assert!(imported.prices > 5000);
        let changes = all_month_changes(app, "2026-12").await;
        assert!(changes.iter().all(|c| c.revision == 0), "not published yet");
        let keys: BTreeSet<_> = changes
            .iter()
            .map(|c| {
                (
                    c.product_id.clone(),
                    c.sku_id.clone(),
                    c.availability_id.clone(),
                    c.kind,
                )
            })
            .collect();
        assert_eq!(
            keys.len(),
            changes.len(),
            "paging returned every change once"
        );
        // A new product, an SKU gone, a limit changed, a new prerequisite, a new market, new prices.
        assert!(!find(&changes, "DZH318Z0BQ5S", "0001", pb::ChangeKind::Added).is_empty());
        assert!(!find(&changes, "CFQ7TTC0QUZ9", "0001", pb::ChangeKind::Ended).is_empty());
        let limit = find(&changes, "CFQ7TTC0VA61", "0001", pb::ChangeKind::Changed);
        let max = limit
            .iter()
            .flat_map(|c| &c.changes)
            .find(|f| f.field == "max_quantity")
            .unwrap();
        assert_eq!((max.before.as_str(), max.after.as_str()), ("50", "100"));
        let prereq = find(&changes, "CFQ7TTC09MID", "0001", pb::ChangeKind::Changed);
        assert!(
            prereq
                .iter()
                .flat_map(|c| &c.changes)
                .any(|f| f.field == "prerequisites" && f.after.contains("CFQ7TTC0G513/0001"))
        );
        assert!(
            find(&changes, "CFQ7TTC0TIVE", "0001", pb::ChangeKind::Added)
                .iter()
                .any(|c| c.country == "SK")
        );
        let repriced: Vec<_> = changes
            .iter()
            .filter(|c| {
                c.kind == pb::ChangeKind::Changed as i32
                    && c.changes.iter().any(|f| f.field.starts_with("price "))
            })
            .collect();
        assert!(!repriced.is_empty());
        let f = repriced[0]
            .changes
            .iter()
            .find(|f| f.field.starts_with("price "))
            .unwrap();
        assert_ne!(f.before, f.after);
        // The catalog did not change yet.
        let sku = app
            .catalog("us", Role::SalesAgent)
            .get_sku(pb::GetSkuRequest {
                month: String::new(),
                product_id: "CFQ7TTC0VA61".into(),
                sku_id: "0001".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .sku
            .unwrap();
        assert_eq!(sku.max_quantity, 50);
    }
);

// The pages read the two months a few SKUs at a time from the store; the publish reads each
// month whole and walks them in memory: the same changes, in the same order.
on_both_backends!(
    a_publish_writes_the_changes_its_pages_listed,
    async |app: &TestApp| {
        import_december(app).await;
        let listed = all_month_changes(app, "2026-12").await;
        let published = publish(app, "2026-12").await.unwrap();
        let written: Vec<pb::CatalogChange> = read_until(
            &mut watch(app, after(0)).await.unwrap(),
            published.last_revision,
        )
        .await
        .into_iter()
        .map(|c| {
            assert_eq!(c.month, "2026-12");
            pb::CatalogChange { revision: 0, ..c }
        })
        .collect();
        assert!(listed.len() > 100, "{} changes", listed.len());
        for kind in [
            pb::ChangeKind::Added,
            pb::ChangeKind::Changed,
            pb::ChangeKind::Ended,
        ] {
            assert!(listed.iter().any(|c| c.kind == kind as i32), "{kind:?}");
        }
        assert_eq!(written.len(), listed.len());
        for (w, l) in written.iter().zip(&listed) {
            assert_eq!(w, l);
        }
    }
);

on_both_backends!(
    publishing_switches_the_catalog_once_and_never_backwards,
    async |app: &TestApp| {
        import_december(app).await;
        let diff = all_month_changes(app, "2026-12").await;
        let published = publish(app, "2026-12").await.unwrap();
        assert_eq!(
            published.last_revision - published.first_revision + 1,
            diff.len() as u64
        );
        let again = publish(app, "2026-12").await.unwrap();
        assert_eq!(
            (again.first_revision, again.last_revision),
            (published.first_revision, published.last_revision)
        );
        let older = publish(app, "2026-11").await.unwrap_err();
        assert_eq!(older.code(), Code::FailedPrecondition);
        let sku = app
            .catalog("us", Role::SalesAgent)
            .get_sku(pb::GetSkuRequest {
                month: String::new(),
                product_id: "CFQ7TTC0VA61".into(),
                sku_id: "0001".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .sku
            .unwrap();
        assert_eq!(sku.max_quantity, 100);
        // Only the operator may import or publish.
        let err = app
            .admin(Some("us"), Role::GlobalAdmin)
            .publish_month(pb::PublishMonthRequest {
                request_id: "x".into(),
                month: "2026-12".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
);

on_both_backends!(a_reader_never_sees_half_a_month, async |app: &TestApp| {
    import_december(app).await;
    let mut catalog = app.catalog("us", Role::SalesAgent);
    // Reads the whole SKU listing (one snapshot per call) until it has seen the new month,
    // boundedly.
    let reader = tokio::spawn(async move {
        let mut states = BTreeSet::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let skus = catalog
                .list_products(pb::ListProductsRequest {
                    month: String::new(),
                    filter: Some(pb::CatalogFilter::default()),
                    view: pb::CatalogView::Sku.into(),
                    page_size: 500,
                    page_token: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .skus;
            let max = skus
                .iter()
                .find(|s| s.product_id == "CFQ7TTC0VA61" && s.id == "0001")
                .unwrap()
                .max_quantity;
            let new_product = skus.iter().any(|s| s.product_id == "DZH318Z0BQ5S");
            states.insert((max, new_product));
            if states.contains(&(100, true)) {
                break;
            }
        }
        states
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    publish(app, "2026-12").await.unwrap();
    let states = reader.await.unwrap();
    for state in &states {
        assert!(
            *state == (50, false) || *state == (100, true),
            "a mixed catalog was served: {states:?}"
        );
    }
    // The reader saw the old month, then the new one: the switch happened under its eyes.
    assert!(
        states.contains(&(50, false)) && states.contains(&(100, true)),
        "{states:?}"
    );
});

on_both_backends!(
    a_subscriber_replays_then_goes_live_without_gap_or_duplicate,
    async |app: &TestApp| {
        // From the beginning: the demo month was the first, which changed nothing...
        let mut stream = watch(app, after(0)).await.unwrap();
        let first = read_caught_up(&mut stream).await;
        assert!(first.is_empty(), "a first month writes no event: {first:?}");
        // ...then December, live, from revision 1.
        import_december(app).await;
        let published = publish(app, "2026-12").await.unwrap();
        assert_eq!(published.first_revision, 1);
        let live = read_until(&mut stream, published.last_revision).await;
        assert_eq!(
            revisions(&live),
            (published.first_revision..=published.last_revision).collect::<Vec<_>>()
        );
    }
);

on_both_backends!(
    a_subscriber_cut_off_mid_replay_resumes_without_loss_or_duplicate,
    async |app: &TestApp| {
        import_december(app).await;
        let published = publish(app, "2026-12").await.unwrap();
        // PublishMonth answers once the month is stored; this replica's feed takes it up a
        // moment later (a stream opened between gets progress at the revision before). Cut
        // off only replays: wait until the feed holds the month.
        read_until(
            &mut watch(app, after(0)).await.unwrap(),
            published.last_revision,
        )
        .await;
        let mut seen: Vec<u64> = Vec::new();
        // Take two batches, hang up, resume after the last revision seen; repeat.
        let mut resume_after = 0;
        for _ in 0..100 {
            let mut stream = watch(app, after(resume_after)).await.unwrap();
            let mut batches = 0;
            let mut done = false;
            while batches < 2 {
                match stream.message().await.unwrap().unwrap().event.unwrap() {
                    Event::Changes(b) => {
                        seen.extend(b.changes.iter().map(|c| c.revision));
                        batches += 1;
                    }
                    Event::Progress(p) => {
                        done = p.current_revision >= published.last_revision;
                        break;
                    }
                }
            }
            drop(stream);
            resume_after = *seen.last().unwrap_or(&0);
            if done {
                break;
            }
        }
        assert_eq!(seen, (1..=published.last_revision).collect::<Vec<_>>());
    }
);

on_both_backends!(filters_apply_on_the_server, async |app: &TestApp| {
    // The demo month was the first (no events): December's changes to filter.
    import_december(app).await;
    let last = publish(app, "2026-12").await.unwrap().last_revision;
    let all = read_until(&mut watch(app, after(0)).await.unwrap(), last).await;
    let product = all
        .iter()
        .find(|c| c.product_id != all[0].product_id)
        .unwrap()
        .product_id
        .clone();
    let mut stream = watch(
        app,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::AfterRevision(0)),
            countries: vec!["SK".into()],
            segments: vec![pb::Segment::Commercial.into()],
            product_types: vec![pb::ProductType::OnlineServices.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let changes = read_until(&mut stream, last).await;
    assert!(!changes.is_empty());
    for c in &changes {
        assert!(c.country == "SK" || c.country.is_empty(), "{c:?}");
        assert!(c.segment == pb::Segment::Commercial as i32 || c.segment == 0);
        assert_eq!(c.product_type, pb::ProductType::OnlineServices as i32);
    }
    let mut one = watch(
        app,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::AfterRevision(0)),
            product_ids: vec![product.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let only = read_until(&mut one, last).await;
    assert!(!only.is_empty() && only.iter().all(|c| c.product_id == product));
    assert!(only.len() < all.len());
    // Bad filters and starts.
    let err = watch(
        app,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::AfterRevision(0)),
            countries: vec!["XX".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    common::assert_bad_field(&err, "countries[0]");
    let err = watch(app, pb::WatchCatalogChangesRequest::default())
        .await
        .unwrap_err();
    common::assert_bad_field(&err, "start");
    let err = watch(app, after(1_000_000)).await.unwrap_err();
    common::assert_bad_field(&err, "after_revision");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_sends_progress_with_the_current_revision() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.watch_progress_interval_ms = 100)
        .await
        .unwrap();
    import_december(&app).await;
    let published = publish(&app, "2026-12").await.unwrap();
    let mut stream = watch(
        &app,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::FromNow(true)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut progress = Vec::new();
    while progress.len() < 3 {
        match stream.message().await.unwrap().unwrap().event.unwrap() {
            // Until this process's feed has sent December out.
            Event::Progress(p) if p.current_revision < published.last_revision => {}
            Event::Changes(b)
                if b.changes
                    .iter()
                    .all(|c| c.revision <= published.last_revision) => {}
            Event::Progress(p) => progress.push(p.current_revision),
            Event::Changes(b) => panic!("nothing was published, yet {b:?}"),
        }
    }
    assert!(progress.iter().all(|p| *p == published.last_revision));
    drop(stream);
    app.stop().await;
}

/// The watch request is a few filters: one over 64 KiB is refused, not read on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_watch_request_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let err = watch(
        &app,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::FromNow(true)),
            product_ids: vec!["CFQ7TTC0LH18".into(); 6_000],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    app.stop().await;
}

/// A subscriber that accepts zstd gets the published batches compressed (made once for all
/// subscribers), and reads the same changes as one that does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_accepting_zstd_reads_the_same_changes_compressed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let from_now = || pb::WatchCatalogChangesRequest {
        start: Some(Start::FromNow(true)),
        ..Default::default()
    };
    let plain = app
        .catalog("us", Role::HelpdeskAgent)
        .watch_catalog_changes(from_now())
        .await
        .unwrap();
    assert!(plain.metadata().get("grpc-encoding").is_none());
    let mut plain = plain.into_inner();
    let compressed = app
        .catalog("us", Role::HelpdeskAgent)
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
        .watch_catalog_changes(from_now())
        .await
        .unwrap();
    assert_eq!(
        compressed
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("zstd")
    );
    let mut compressed = compressed.into_inner();
    // Both are live (their first progress message) before the month is published.
    read_caught_up(&mut plain).await;
    read_caught_up(&mut compressed).await;
    import_december(&app).await;
    let published = publish(&app, "2026-12").await.unwrap();
    let from_plain = read_until(&mut plain, published.last_revision).await;
    let from_compressed = read_until(&mut compressed, published.last_revision).await;
    assert_eq!(
        revisions(&from_plain),
        (published.first_revision..=published.last_revision).collect::<Vec<_>>()
    );
    assert_eq!(from_compressed, from_plain);
    drop((plain, compressed));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_revision_is_refused_with_the_oldest_kept() {
    // A small recent window: December's events, compacted, are not served from memory.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.change_log_months = 1;
        s.watch_recent_changes = 1;
    })
    .await
    .unwrap();
    import_december(&app).await;
    publish(&app, "2026-12").await.unwrap();
    // January reprices everything: December's events leave the one month of log kept.
    publish_repriced(&app, "2027-01", 1).await;
    let published = app
        .admin(None, Role::CatalogAdmin)
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: "2027-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    // Once this process's feed has sent January out (it holds December in memory until then).
    let mut tries = 0;
    let err = loop {
        match watch(&app, after(0)).await {
            Err(err) => break err,
            Ok(_) if tries < 100 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(_) => panic!("revision 0 was still served 10 s after it was compacted"),
        }
    };
    assert_eq!(err.code(), Code::FailedPrecondition);
    let details = common::details(&err);
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "REVISION_COMPACTED");
    assert_eq!(
        info.metadata["oldest_revision"],
        published.first_revision.to_string()
    );
    // Resuming right before the oldest kept works.
    let mut stream = watch(&app, after(published.first_revision - 1))
        .await
        .unwrap();
    let changes = read_until(&mut stream, published.last_revision).await;
    assert_eq!(changes.first().unwrap().revision, published.first_revision);
    drop(stream);
    app.stop().await;
}

/// Imports and publishes `month` as December's files with every price raised by `step` units:
/// every availability changes.
async fn publish_repriced(app: &TestApp, month: &str, step: u32) {
    let dir = tempfile::tempdir().unwrap();
    let mut request = import_request("2026-12");
    request.month = month.into();
    for path in request.price_list_paths.iter_mut() {
        let mut reader = csv::Reader::from_path(&*path).unwrap();
        let headers = reader.headers().unwrap().clone();
        let price = headers.iter().position(|h| h == "UnitPrice").unwrap();
        let out_path = dir
            .path()
            .join(std::path::Path::new(path).file_name().unwrap());
        let mut writer = csv::Writer::from_path(&out_path).unwrap();
        writer.write_record(&headers).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let fields: Vec<String> = record
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    if i == price {
                        let (units, cents) = f.split_once('.').unwrap_or((f, ""));
                        let units: u64 = units.parse::<u64>().unwrap() + u64::from(step);
                        if cents.is_empty() {
                            units.to_string()
                        } else {
                            format!("{units}.{cents}")
                        }
                    } else {
                        f.to_owned()
                    }
                })
                .collect();
            writer.write_record(&fields).unwrap();
        }
        writer.flush().unwrap();
        *path = out_path.display().to_string();
    }
    common::upload(&mut app.admin(None, Role::CatalogAdmin), &request)
        .await
        .unwrap();
    publish(app, month).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_is_ended_with_where_to_resume() {
    // Its connection would be ended at twice the timeout (tests/hostile/streams.rs): it reads
    // again between the two.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.slow_subscriber_timeout_ms = 2_000)
        .await
        .unwrap();
    // More change log than the connection's buffers hold.
    for (month, step) in [("2027-01", 1), ("2027-02", 2), ("2027-03", 3)] {
        publish_repriced(&app, month, step).await;
    }
    // A small HTTP/2 window, so the server cannot park the whole replay in buffers.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .initial_stream_window_size(16 * 1024)
        .initial_connection_window_size(16 * 1024)
        .connect()
        .await
        .unwrap();
    let token = app.token(Some("us"), Role::SalesAgent);
    let mut client = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel,
        TestApp::raw_bearer(Some(&format!("Bearer {token}"))),
    );
    let mut stream = client
        .watch_catalog_changes(after(0))
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut seen = Vec::new();
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.message())
            .await
            .expect("the stream stalled")
        {
            Ok(Some(m)) => {
                if let Some(Event::Changes(b)) = m.event {
                    seen.extend(b.changes.iter().map(|c| c.revision));
                }
            }
            Ok(None) => panic!("the stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let resume: u64 =
        common::details(&status).error_info().unwrap().metadata["resume_after_revision"]
            .parse()
            .unwrap();
    assert_eq!(
        seen,
        (1..=resume).collect::<Vec<_>>(),
        "everything up to the resume point was delivered"
    );
    drop(stream);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_streams_with_a_status_to_reconnect() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut stream = watch(
        &app,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::FromNow(true)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let head = match stream.message().await.unwrap().unwrap().event.unwrap() {
        Event::Progress(p) => p.current_revision,
        other => panic!("{other:?}"),
    };
    let stopping = tokio::spawn(app.stop());
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Unavailable);
    let info = common::details(&status).error_info().unwrap().clone();
    assert_eq!(info.reason, "SERVER_SHUTTING_DOWN");
    assert_eq!(info.metadata["resume_after_revision"], head.to_string());
    stopping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_published_on_one_replica_reaches_subscribers_of_another() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    // A slow fallback poll: the notification is what delivers.
    let b = a.replica(|s| s.change_poll_interval_ms = 60_000).await;
    let mut stream = watch(
        &b,
        pb::WatchCatalogChangesRequest {
            start: Some(Start::FromNow(true)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    import_december(&a).await;
    let published = publish(&a, "2026-12").await.unwrap();
    let changes = tokio::time::timeout(
        Duration::from_secs(20),
        read_until(&mut stream, published.last_revision),
    )
    .await
    .expect("the other replica delivered the month");
    assert_eq!(
        revisions(&changes),
        (published.first_revision..=published.last_revision).collect::<Vec<_>>()
    );
    // And replica B's catalog switched too.
    let sku = b
        .catalog("us", Role::SalesAgent)
        .get_sku(pb::GetSkuRequest {
            month: String::new(),
            product_id: "CFQ7TTC0VA61".into(),
            sku_id: "0001".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .sku
        .unwrap();
    assert_eq!(sku.max_quantity, 100);
    drop(stream);
    b.stop().await;
    a.stop().await;
}

on_both_backends!(
    bad_files_are_reported_and_nothing_is_stored,
    async |app: &TestApp| {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("pricelist-US.csv");
        let text =
            std::fs::read_to_string(common::demo_dir("2026-12").join("pricelist-US.csv")).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[3] = lines[3].replacen("\"USD\",\"", "\"USD\",\"abc", 1);
        lines[4] = lines[4].replace("\"12/1/2026 12:00:00 AM\"", "\"the first\"");
        std::fs::write(&bad, lines.join("\n")).unwrap();
        let mut request = import_request("2026-12");
        request.price_list_paths = vec![bad.display().to_string()];
        let mut admin = app.admin(None, Role::CatalogAdmin);
        let err = common::upload(&mut admin, &request).await.unwrap_err();
        let details = common::details(&err);
        let violations = &details.bad_request().unwrap().field_violations;
        assert!(
            violations.iter().any(|v| v.field == "files[1]"
                && v.description.contains("pricelist-US.csv:4 [UnitPrice]")),
            "{violations:?}"
        );
        assert!(
            violations
                .iter()
                .any(|v| v.description.contains(":5 [EffectiveStartDate]")),
            "{violations:?}"
        );
        let err = admin
            .list_month_changes(pb::ListMonthChangesRequest {
                month: "2026-12".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
);
