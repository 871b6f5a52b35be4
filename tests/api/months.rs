//! Issue 21's import, diff and publish of a month too large to hold, through the wire at a
//! small size: a bad row deep in a later file refuses the whole month with nothing stored;
//! a first month changes nothing; the next month's changes, computed a few SKUs at a time,
//! are listed page by page in (product, SKU, availability) order and published as exactly
//! those events, numbered after the last revision without a gap.

use std::path::Path;
use std::time::Duration;

use crate::common::{self, TestApp, rid};
use crate::fullsize::generator::{GeneratedMonth, MonthShape, generate};
use crate::on_both_backends;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::watch_catalog_changes_request::Start;
use pb::watch_catalog_changes_response::Event;
use tonic::Code;

const DECEMBER: MonthShape = MonthShape {
    markets: 6,
    rows_per_market: 1500,
    seed: 5,
    month: "2026-12",
};

fn request(month: &str, generated: &GeneratedMonth) -> pb::ImportMonthRequest {
    pb::ImportMonthRequest {
        request_id: rid(),
        month: month.into(),
        offer_matrix_path: generated.offer_matrix.display().to_string(),
        price_list_paths: generated
            .price_lists
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }
}

/// Makes row `line` (1-based, the header is line 1) of `path` carry a bad UnitPrice.
fn spoil_price(path: &Path, line: usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let fields: Vec<&str> = lines[line - 1].split("\",\"").collect();
    let mut fields: Vec<String> = fields.into_iter().map(str::to_owned).collect();
    // ProductTitle, ProductId, SkuId, SkuTitle, Publisher, SkuDescription, UnitOfMeasure,
    // TermDuration, BillingPlan, Market, Currency, UnitPrice: the twelfth.
    fields[11] = "12.3.4".into();
    lines[line - 1] = fields.join("\",\"");
    std::fs::write(path, lines.join("\n")).unwrap();
}

async fn all_month_changes(app: &TestApp, month: &str, page_size: i32) -> Vec<pb::CatalogChange> {
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_month_changes(pb::ListMonthChangesRequest {
                month: month.into(),
                page_size,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.changes.len() <= page_size as usize);
        out.extend(page.changes);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Every change after `after` until the stream is caught up through revision `until`.
async fn replay(app: &TestApp, after: u64, until: u64) -> Vec<pb::CatalogChange> {
    let mut stream = app
        .catalog("us", Role::HelpdeskAgent)
        .watch_catalog_changes(pb::WatchCatalogChangesRequest {
            start: Some(Start::AfterRevision(after)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut changes = Vec::new();
    loop {
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

fn key(c: &pb::CatalogChange) -> (String, String, String) {
    (
        c.product_id.clone(),
        c.sku_id.clone(),
        c.availability_id.clone(),
    )
}

on_both_backends!(
    a_bad_row_deep_in_a_later_file_refuses_the_month_and_stores_nothing,
    async |app: &TestApp| {
        let dir = tempfile::tempdir().unwrap();
        let generated = generate(dir.path(), &DECEMBER).unwrap();
        // The fifth market's file: four files were read (and written) before it.
        let spoiled = &generated.price_lists[4];
        let spoiled_name = spoiled.file_name().unwrap().to_string_lossy().into_owned();
        spoil_price(spoiled, 1000);
        let mut admin = app.admin(None, Role::CatalogAdmin);
        let err = common::upload(&mut admin, &request("2026-12", &generated))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        let details = common::details(&err);
        let violations = &details.bad_request().unwrap().field_violations;
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(
            violations[0]
                .description
                .contains(&format!("{spoiled_name}:1000 [UnitPrice]")),
            "{violations:?}"
        );
        // Nothing of the month was kept: it is not even imported.
        let err = admin
            .list_month_changes(pb::ListMonthChangesRequest {
                month: "2026-12".into(),
                page_size: 10,
                page_token: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");

        // The same month, repaired, imports whole.
        let generated = generate(dir.path(), &DECEMBER).unwrap();
        let imported = common::upload(&mut admin, &request("2026-12", &generated))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(imported.availabilities as u64, generated.availabilities);
        assert_eq!(imported.prices as u64, generated.rows);
        assert_eq!(imported.skus as usize, generated.skus);
    }
);

on_both_backends!(
    a_first_month_changes_nothing_and_the_next_is_listed_and_published_in_order,
    async |app: &TestApp| {
        // The demo month was the first: its publish wrote no event.
        assert!(replay(app, 0, 0).await.is_empty());
        let mut admin = app.admin(None, Role::CatalogAdmin);
        let err = admin
            .list_month_changes(pb::ListMonthChangesRequest {
                month: "2026-11".into(),
                page_size: 10,
                page_token: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

        // December against it, listed in small pages across many SKU steps.
        let dir = tempfile::tempdir().unwrap();
        let generated = generate(dir.path(), &DECEMBER).unwrap();
        common::upload(&mut admin, &request("2026-12", &generated))
            .await
            .unwrap();
        let listed = all_month_changes(app, "2026-12", 293).await;
        let in_one_page = all_month_changes(app, "2026-12", 1000).await;
        assert_eq!(listed, in_one_page);
        assert!(
            listed.windows(2).all(|w| key(&w[0]) < key(&w[1])),
            "listed in (product, SKU, availability) order, each once"
        );
        let added = listed
            .iter()
            .filter(|c| c.kind == pb::ChangeKind::Added as i32)
            .count() as u64;
        let ended = listed
            .iter()
            .filter(|c| c.kind == pb::ChangeKind::Ended as i32 && c.month == "2026-12")
            .count();
        // Every generated availability is new; every demo availability left.
        assert_eq!(added, generated.availabilities);
        assert!(ended > 0);

        let published = admin
            .publish_month(pb::PublishMonthRequest {
                request_id: rid(),
                month: "2026-12".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(published.first_revision, 1);
        assert_eq!(published.last_revision, listed.len() as u64);
        let streamed = replay(app, 0, published.last_revision).await;
        assert_eq!(
            streamed.iter().map(|c| c.revision).collect::<Vec<_>>(),
            (1..=published.last_revision).collect::<Vec<_>>()
        );
        let unnumbered: Vec<pb::CatalogChange> = streamed
            .into_iter()
            .map(|c| pb::CatalogChange { revision: 0, ..c })
            .collect();
        assert_eq!(unnumbered, listed);
    }
);
