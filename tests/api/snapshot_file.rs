//! The current month's snapshot kept in a file (issue 21): a server started on the file
//! answers as the server that loaded the month from the store; the file is believed only when
//! it names the store's current month at its stamp and its checksum holds (a stale or corrupt
//! file is ignored, and written again from the store); a newly published month replaces it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use csp_commerce::config::Settings;
use csp_commerce::domain::catalog::{Catalog, CatalogData, Month};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use csp_commerce::store::SnapshotFile;

use crate::common::{self, Backend, TestApp, rid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    a_snapshot_file_is_believed_only_when_it_matches_the_store(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    a_snapshot_file_is_believed_only_when_it_matches_the_store(Backend::Postgres).await;
}

/// With no folder set, a SQLite server keeps the file beside its database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_it_beside_the_database_by_default() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let database = app.database_url.trim_start_matches("sqlite://");
    let database = database.split('?').next().unwrap_or(database);
    let file = SnapshotFile::beside(Path::new(database));
    written(&file, "2026-11", None).await;
    let before = answers(&app).await;
    let app = app.restart(|_| {}).await;
    assert_eq!(answers(&app).await, before);
    app.stop().await;
}

async fn a_snapshot_file_is_believed_only_when_it_matches_the_store(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_owned();
    let configure = move |s: &mut Settings| s.catalog_snapshot_dir = Some(folder.clone());
    let Some(app) = TestApp::spawn_with(backend, configure.clone()).await else {
        return;
    };
    let file = SnapshotFile::in_dir(dir.path());
    let stamp = written(&file, "2026-11", None).await;
    let month = Month::parse("m", "2026-11").unwrap();
    let from_store = answers(&app).await;

    // Started on the file: the same answers.
    let app = app.restart(configure.clone()).await;
    assert_eq!(answers(&app).await, from_store);

    // A file at the store's stamp is what the server reads: a price changed in it is the
    // price answered (the store still holds the old one).
    let (changed, item) = with_one_price_raised(file.read(month, &stamp).unwrap());
    file.write(month, &stamp, &changed).unwrap();
    let app = app.restart(configure.clone()).await;
    let stored = price_in(&from_store, &item);
    assert_eq!(price_in(&answers(&app).await, &item), stored + 1);

    // The same file at another stamp (another import or database): not used, and written
    // again from the store.
    file.write(month, &format!("{stamp} elsewhere"), &changed)
        .unwrap();
    let app = app.restart(configure.clone()).await;
    assert_eq!(answers(&app).await, from_store);
    written(&file, "2026-11", Some(&stamp)).await;

    // A corrupt file (one byte changed, checksum kept): not used.
    file.write(month, &stamp, &changed).unwrap();
    flip_a_byte(file.path());
    let app = app.restart(configure.clone()).await;
    assert_eq!(answers(&app).await, from_store);
    written(&file, "2026-11", Some(&stamp)).await;
    // Cut short: not used either.
    file.write(month, &stamp, &changed).unwrap();
    let bytes = std::fs::read(file.path()).unwrap();
    std::fs::write(file.path(), &bytes[..bytes.len() - 9]).unwrap();
    let app = app.restart(configure.clone()).await;
    assert_eq!(answers(&app).await, from_store);

    // A newly published month replaces it, and a restart answers that month from the file.
    let mut admin = app.admin(None, Role::CatalogAdmin);
    common::upload(
        &mut admin,
        &common::month_request("2026-12", &common::demo_dir("2026-12")),
    )
    .await
    .unwrap();
    admin
        .publish_month(pb::PublishMonthRequest {
            request_id: rid(),
            month: "2026-12".into(),
        })
        .await
        .unwrap();
    written(&file, "2026-12", None).await;
    let december = answers(&app).await;
    assert_ne!(december, from_store);
    let app = app.restart(configure).await;
    assert_eq!(answers(&app).await, december);
    app.stop().await;
}

/// Waits until `file` holds `month` (at `stamp` when given) and answers its stamp.
async fn written(file: &SnapshotFile, month: &str, stamp: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((m, s)) = file.header()
            && m == month
            && stamp.is_none_or(|want| want == s)
        {
            let parsed = Month::parse("m", month).unwrap();
            if file.read(parsed, &s).is_ok() {
                return s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never held {month}",
            file.path().display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The month's data with one commercial availability's first price raised by one micro-unit,
/// and that availability (product, SKU, availability id).
fn with_one_price_raised(mut data: CatalogData) -> (Catalog, (String, String, String)) {
    let a = data
        .availabilities
        .iter_mut()
        .find(|a| !a.terms.is_empty())
        .unwrap();
    let mut terms = a.terms.to_vec();
    terms[0].unit_price.micros += 1;
    a.terms = Arc::from(terms);
    let item = (
        a.product_id.to_string(),
        a.sku_id.to_string(),
        a.id.to_string(),
    );
    let month = Month::parse("m", "2026-11").unwrap();
    (Catalog::build(Some(month), data), item)
}

/// What a client can read of the whole catalog: every product, every SKU with its
/// countries, every availability of every SKU.
#[derive(Debug, PartialEq)]
struct Answers {
    products: Vec<pb::Product>,
    skus: Vec<pb::Sku>,
    availabilities: Vec<pb::Availability>,
}

async fn answers(app: &TestApp) -> Answers {
    let mut catalog = app.catalog("de", Role::SalesAgent);
    let mut products = Vec::new();
    let mut skus = Vec::new();
    for view in [pb::CatalogView::Product, pb::CatalogView::SkuWithCountries] {
        let mut page_token = String::new();
        loop {
            let page = catalog
                .list_products(pb::ListProductsRequest {
                    view: view.into(),
                    page_size: 500,
                    page_token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            products.extend(page.products);
            skus.extend(page.skus);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    let mut availabilities = Vec::new();
    for sku in &skus {
        for segment in [pb::Segment::Unspecified, pb::Segment::Nonprofit] {
            let mut page_token = String::new();
            loop {
                let page = catalog
                    .list_availabilities(pb::ListAvailabilitiesRequest {
                        product_id: sku.product_id.clone(),
                        sku_id: sku.id.clone(),
                        segment: segment.into(),
                        page_size: 500,
                        page_token,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                availabilities.extend(page.availabilities);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
    }
    assert!(!products.is_empty() && !skus.is_empty() && !availabilities.is_empty());
    Answers {
        products,
        skus,
        availabilities,
    }
}

/// The first term's unit price, in micro-units, of `item` as `answers` hold it.
fn price_in(answers: &Answers, item: &(String, String, String)) -> i64 {
    let a = answers
        .availabilities
        .iter()
        .find(|a| (&a.product_id, &a.sku_id, &a.id) == (&item.0, &item.1, &item.2))
        .unwrap_or_else(|| panic!("{item:?} answered"));
    let price = a.terms[0].term_price.as_ref().unwrap();
    price.units * 1_000_000 + i64::from(price.nanos) / 1_000
}

/// Changes one byte in the middle of `path`.
fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}
