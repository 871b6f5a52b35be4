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

/// PostgreSQL's partitions of `month`, one row a table: (table, partition, its rows, its
/// indexes, those of them attached to the parent's, the parent's indexes).
async fn partitions(app: &TestApp, month: &str) -> Vec<(String, String, i64, i64, i64, i64)> {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT p.relname::text, c.relname::text, \
               (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid), \
               (SELECT count(*) FROM pg_index x JOIN pg_inherits h ON h.inhrelid = x.indexrelid \
                 WHERE x.indrelid = c.oid), \
               (SELECT count(*) FROM pg_index x WHERE x.indrelid = p.oid) \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
               JOIN pg_class p ON p.oid = i.inhparent \
             WHERE p.relname IN ('availabilities', 'availability_prices') \
               AND pg_get_expr(c.relpartbound, c.oid) = $1 ORDER BY 1",
            [format!("FOR VALUES IN ('{month}')").into()],
        ))
        .await
        .unwrap();
    let mut found = Vec::new();
    for row in rows {
        let partition: String = row.try_get_by_index(1).unwrap();
        let count = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT count(*) FROM {partition}"),
            ))
            .await
            .unwrap()
            .unwrap();
        found.push((
            row.try_get_by_index(0).unwrap(),
            partition,
            count.try_get_by_index(0).unwrap(),
            row.try_get_by_index(2).unwrap(),
            row.try_get_by_index(3).unwrap(),
            row.try_get_by_index(4).unwrap(),
        ));
    }
    let _ = db.close().await;
    found
}

/// PostgreSQL: each imported month is a partition of its own, holding the month's rows, with
/// every index built before the attach and taken by it as it is (none built under the parent's
/// lock); importing the month again replaces its partitions whole, and the catalog reads the
/// new import.
#[tokio::test]
async fn postgres_keeps_each_imported_month_in_partitions_of_its_own() {
    let Some(app) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let demo = partitions(&app, "2026-11").await;
    assert_eq!(demo.len(), 2, "{demo:?}");
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let dir = tempfile::tempdir().unwrap();
    let generated = generate(dir.path(), &DECEMBER).unwrap();
    common::upload(&mut admin, &request("2026-12", &generated))
        .await
        .unwrap();
    let first = partitions(&app, "2026-12").await;
    let smaller = MonthShape {
        markets: 2,
        ..DECEMBER
    };
    let again = tempfile::tempdir().unwrap();
    let regenerated = generate(again.path(), &smaller).unwrap();
    let imported = common::upload(&mut admin, &request("2026-12", &regenerated))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imported.availabilities as u64, regenerated.availabilities);
    let second = partitions(&app, "2026-12").await;

    for (month, (stored, availabilities, prices)) in [
        (&first, generated.availabilities, generated.rows),
        (&second, regenerated.availabilities, regenerated.rows),
    ]
    .into_iter()
    .enumerate()
    {
        let [a, p] = &stored[..] else {
            panic!("import {month}: {stored:?}")
        };
        assert_eq!(
            (a.0.as_str(), a.2),
            ("availabilities", availabilities as i64)
        );
        assert_eq!((p.0.as_str(), p.2), ("availability_prices", prices as i64));
        for (_, name, _, indexes, attached, parents) in stored {
            assert_eq!(
                (indexes, attached),
                (parents, parents),
                "import {month}: {name}"
            );
        }
    }
    assert_ne!(first[0].1, second[0].1, "a new partition");
    assert_ne!(first[1].1, second[1].1, "a new partition");
    let changes = all_month_changes(&app, "2026-12", 1000).await;
    let added = changes
        .iter()
        .filter(|c| c.kind == pb::ChangeKind::Added as i32)
        .count() as u64;
    assert_eq!(
        added, regenerated.availabilities,
        "the diff reads the new import"
    );
    assert_eq!(
        demo,
        partitions(&app, "2026-11").await,
        "other months untouched"
    );
}

/// PostgreSQL: importing a month again while a reader holds the tables (an open transaction
/// that read them) never makes other readers queue behind the import: its swap, which must
/// drop the earlier partition, steps back and tries again while it waits; other reads go on;
/// the import lands once the reader is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_month_imported_again_while_read_never_stops_other_readers() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let Some(app) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let dir = tempfile::tempdir().unwrap();
    let generated = generate(dir.path(), &DECEMBER).unwrap();
    common::upload(&mut admin, &request("2026-12", &generated))
        .await
        .unwrap();
    let before = partitions(&app, "2026-12").await;

    let holder = Database::connect(&app.database_url).await.unwrap();
    let holding = holder.begin().await.unwrap();
    holding
        .execute_unprepared("SELECT count(*) FROM availabilities WHERE month = '2026-11'")
        .await
        .unwrap();
    let again = request("2026-12", &generated);
    let import = tokio::spawn(async move { common::upload(&mut admin, &again).await });

    // The import's swap waits for the lock on `availabilities`.
    let watcher = Database::connect(&app.database_url).await.unwrap();
    let waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted \
                   AND relation = 'availabilities'::regclass";
    let mut seen = false;
    for _ in 0..1200 {
        let row = watcher
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                waiting,
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get_by_index::<i64>(0).unwrap() > 0 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the import never waited for the reader");
    assert!(
        !import.is_finished(),
        "the import landed under the reader's lock"
    );
    // Another reader is served meanwhile (queued behind the import, it would wait for the
    // holder, which waits for it: the statement timeout would end it).
    let reader = Database::connect(&app.database_url).await.unwrap();
    let read = reader
        .transaction::<_, i64, sea_orm::DbErr>(|txn| {
            Box::pin(async move {
                txn.execute_unprepared("SET LOCAL statement_timeout = '20s'")
                    .await?;
                let row = txn
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        "SELECT count(*) FROM availabilities WHERE month = '2026-11'",
                    ))
                    .await?
                    .unwrap();
                row.try_get_by_index::<i64>(0)
            })
        })
        .await
        .expect("a reader queued behind the import");
    assert!(read > 0);
    assert!(
        !import.is_finished(),
        "the import landed under the reader's lock"
    );

    holding.commit().await.unwrap();
    let imported = import.await.unwrap().unwrap().into_inner();
    assert_eq!(imported.availabilities as u64, generated.availabilities);
    let after = partitions(&app, "2026-12").await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_ne!(before[0].1, after[0].1, "a new partition");
    assert_eq!((after[0].2, after[1].2), (before[0].2, before[1].2));
}

/// A database of `backend` for the command line alone (an SQLite file is one process's), with
/// a generated November published as its first month. `None`: PostgreSQL knowingly skipped.
async fn cli_database(backend: common::Backend, dir: &Path) -> Option<String> {
    let url = match backend {
        common::Backend::Sqlite => format!("sqlite://{}", dir.join("cli.sqlite").display()),
        common::Backend::Postgres if common::postgres_skipped() => return None,
        common::Backend::Postgres => common::fresh_postgres_database().await,
    };
    let november = MonthShape {
        month: "2026-11",
        markets: 3,
        ..DECEMBER
    };
    cli_import(&url, &november, &dir.join("2026-11"), true);
    Some(url)
}

/// Generates `shape` in `dir` and imports it with the command line (and publishes it).
fn cli_import(url: &str, shape: &MonthShape, dir: &Path, publish: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let month = generate(dir, shape).unwrap();
    let mut args = vec!["import".to_owned(), "--month".into(), shape.month.into()];
    if publish {
        args.push("--publish".into());
    }
    args.extend([
        "--offer-matrix".into(),
        month.offer_matrix.display().to_string(),
    ]);
    for list in &month.price_lists {
        args.extend(["--price-list".into(), list.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, log) = cli(url, &args);
    assert!(ok, "{log}");
}

/// The command line on `url`: (success, stdout, stderr), logging at INFO.
fn cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csp-commerce"))
        .args(["--database-url", url])
        .args(args)
        .env("CSP_LOG", "info")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (product:SKU:availability) of each change line `changes` printed, in order.
fn listed_keys(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

/// The month's change events as stored, in revision order: (product:SKU:availability).
async fn stored_keys(url: &str, month: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT product_id, sku_id, availability_id FROM catalog_changes \
                 WHERE month = '{month}' ORDER BY revision"
            ),
        ))
        .await
        .unwrap();
    let _ = db.close().await;
    rows.iter()
        .map(|r| {
            let part = |i| r.try_get_by_index::<String>(i).unwrap();
            format!("{}:{}:{}", part(0), part(1), part(2))
        })
        .collect()
}

/// The `changes` command keeps what it lists; a publish of the same import against the same
/// month writes exactly that (and says so); listed again, it is read back; a new import of the
/// month drops it.
async fn a_publish_writes_what_the_changes_command_listed(backend: common::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = cli_database(backend, dir.path()).await else {
        return;
    };
    cli_import(&url, &DECEMBER, &dir.path().join("a"), false);
    let (ok, listed, log) = cli(&url, &["changes", "--month", "2026-12"]);
    assert!(ok, "{log}");
    assert!(!log.contains("read back"), "nothing kept yet: {log}");
    let listed = listed_keys(&listed);
    assert!(listed.len() > 1000, "{}", listed.len());
    let (ok, again, log) = cli(&url, &["changes", "--month", "2026-12"]);
    assert!(ok && log.contains("read back from those kept"), "{log}");
    assert_eq!(listed_keys(&again), listed);

    // Imported again: what was kept is not this import's diff.
    let smaller = MonthShape {
        markets: 2,
        ..DECEMBER
    };
    cli_import(&url, &smaller, &dir.path().join("b"), false);
    let (ok, relisted, log) = cli(&url, &["changes", "--month", "2026-12"]);
    assert!(ok && !log.contains("read back"), "{log}");
    let relisted = listed_keys(&relisted);
    assert_ne!(relisted, listed);

    let (ok, _, log) = cli(&url, &["publish", "--month", "2026-12"]);
    assert!(ok && log.contains("from its kept changes"), "{log}");
    assert_eq!(stored_keys(&url, "2026-12").await, relisted);
    let (ok, _, log) = cli(&url, &["changes", "--month", "2026-12"]);
    assert!(!ok && log.contains("already published"), "{log}");
}

/// A publish with no preview, or whose kept diff was made against another month, diffs the
/// months itself.
async fn a_publish_without_its_diff_kept_diffs_the_months_itself(backend: common::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = cli_database(backend, dir.path()).await else {
        return;
    };
    cli_import(&url, &DECEMBER, &dir.path().join("12"), false);
    let january = MonthShape {
        month: "2027-01",
        seed: 6,
        ..DECEMBER
    };
    cli_import(&url, &january, &dir.path().join("01"), false);
    // January's diff against November is kept; December is then published without one.
    let (ok, _, log) = cli(&url, &["changes", "--month", "2027-01"]);
    assert!(ok, "{log}");
    let (ok, _, log) = cli(&url, &["publish", "--month", "2026-12"]);
    assert!(ok && !log.contains("kept changes"), "{log}");
    assert!(!stored_keys(&url, "2026-12").await.is_empty());
    // January against December now: what was kept (against November) is not used.
    let (ok, listed, log) = cli(&url, &["changes", "--month", "2027-01"]);
    assert!(ok && !log.contains("read back"), "{log}");
    let (ok, _, log) = cli(&url, &["publish", "--month", "2027-01"]);
    assert!(ok && log.contains("from its kept changes"), "{log}");
    let stored = stored_keys(&url, "2027-01").await;
    assert!(!stored.is_empty());
    assert_eq!(stored, listed_keys(&listed));
}

/// `$scenario` (an async fn of the backend) as a test on each backend.
macro_rules! cli_on_both_backends {
    ($($scenario:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test]
        async fn $sqlite() {
            $scenario(common::Backend::Sqlite).await;
        }

        #[tokio::test]
        async fn $postgres() {
            $scenario(common::Backend::Postgres).await;
        }
    )*};
}

cli_on_both_backends! {
    a_publish_writes_what_the_changes_command_listed =>
        a_publish_writes_what_the_changes_command_listed_sqlite,
        a_publish_writes_what_the_changes_command_listed_postgres;
    a_publish_without_its_diff_kept_diffs_the_months_itself =>
        a_publish_without_its_diff_kept_diffs_the_months_itself_sqlite,
        a_publish_without_its_diff_kept_diffs_the_months_itself_postgres;
}
