//! Imports as a hostile client tries them: server paths (off by default; when an import folder
//! is set, nothing outside it, no FIFO, no device, no endless line) and uploads over their caps,
//! with no file content in any error beyond the offending field cut short.

use std::path::Path;
use std::time::Duration;

use csp_commerce::config::Settings;
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;
use pb::upload_month_request::Part;
use tokio::time::timeout;
use tonic::Code;

use crate::common::{self, Backend, TestApp, reason, rid};

const HONEST_BOUND: Duration = Duration::from_secs(2);

fn path_request(matrix: &str, lists: &[&str]) -> pb::ImportMonthRequest {
    pb::ImportMonthRequest {
        request_id: rid(),
        month: "2026-12".into(),
        offer_matrix_path: matrix.into(),
        price_list_paths: lists.iter().map(|l| (*l).to_owned()).collect(),
    }
}

/// December's files, named as paths under `dir` (absolute).
fn december_request(dir: &Path) -> pb::ImportMonthRequest {
    common::month_request("2026-12", dir)
}

async fn spawn(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    TestApp::spawn_with(backend, configure).await
}

/// The whole status as a client receives it: message and encoded details.
fn everything_in(status: &tonic::Status) -> String {
    format!(
        "{} {}",
        status.message(),
        String::from_utf8_lossy(status.details())
    )
}

/// No echoed piece of a file is longer than the cut-short field, and the status stays small.
fn assert_bounded(status: &tonic::Status) {
    let d = common::details(status);
    if let Some(bad) = d.bad_request() {
        for v in &bad.field_violations {
            assert!(v.description.len() < 400, "{:?}", v.description);
        }
    }
    assert!(
        status.message().len() < 64 << 10,
        "{}",
        status.message().len()
    );
}

/// An honest catalog read on a connection of its own, within the bound.
async fn honest_read(app: &TestApp) {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut catalog = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel,
        TestApp::raw_bearer(Some(&format!(
            "Bearer {}",
            app.token(Some("us"), Role::SalesAgent)
        ))),
    );
    let answer = timeout(
        HONEST_BOUND,
        catalog.list_products(pb::ListProductsRequest {
            page_size: 5,
            ..Default::default()
        }),
    )
    .await
    .expect("the honest read was served within the bound")
    .expect("the honest read succeeded");
    assert!(!answer.into_inner().products.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_imports_are_off_by_default() {
    let app = spawn(Backend::Sqlite, |_| {}).await.unwrap();
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let december = december_request(&common::demo_dir("2026-12"));
    for request in [
        path_request("/etc/passwd", &["/proc/self/environ"]),
        december,
    ] {
        let err = admin.import_month(request).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        assert_eq!(reason(&err), "PATH_IMPORTS_OFF");
        assert!(err.message().contains("UploadMonth"), "{}", err.message());
        assert!(!everything_in(&err).contains("root:"));
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_leading_out_of_the_import_folder_are_refused() {
    let folder = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/passwd", folder.path().join("passwd.csv")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", folder.path().join("zero.csv")).unwrap();
    std::os::unix::fs::symlink("/etc", folder.path().join("etc")).unwrap();
    let dir = folder.path().to_path_buf();
    let app = spawn(Backend::Sqlite, |s| s.import_dir = Some(dir))
        .await
        .unwrap();
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let environ = format!("/proc/{}/environ", std::process::id());
    for path in [
        "/etc/passwd",
        "../../etc/passwd",
        "../../../../../../../../proc/self/environ",
        "/proc/self/environ",
        environ.as_str(),
        "passwd.csv",
        "zero.csv",
        "etc/passwd",
        &format!("{}/../../etc/passwd", folder.path().display()),
    ] {
        let err = admin
            .import_month(path_request(path, &[path]))
            .await
            .unwrap_err();
        assert_eq!(
            common::assert_bad_field(&err, "offer_matrix_path"),
            "OUTSIDE_IMPORT_DIR",
            "{path}: {err:?}"
        );
        common::assert_bad_field(&err, "price_list_paths[0]");
        let all = everything_in(&err);
        assert!(!all.contains("root:"), "{path}: {all}");
        assert!(!all.contains(common::TEST_SECRET), "{path}: {all}");
        assert!(!all.contains("PATH="), "{path}: {all}");
        assert_bounded(&err);
    }
    // Each named file is a descriptor while it is read: their number is capped.
    let many: Vec<String> = (0..400).map(|i| format!("p{i}.csv")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = admin
        .import_month(path_request("m.csv", &many))
        .await
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "price_list_paths"),
        "TOO_MANY"
    );
    // Still serving.
    honest_read(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_or_a_device_in_the_import_folder_is_refused_without_blocking_anyone() {
    let folder = tempfile::tempdir().unwrap();
    let fifo = folder.path().join("fifo.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let dir = folder.path().to_path_buf();
    let app = spawn(Backend::Sqlite, |s| s.import_dir = Some(dir))
        .await
        .unwrap();
    let mut admin = app.admin(None, Role::CatalogAdmin);
    // Nobody ever writes to the FIFO: a blocking open would never return.
    let import = tokio::spawn(async move {
        admin
            .import_month(path_request("fifo.csv", &["fifo.csv"]))
            .await
    });
    honest_read(&app).await;
    let err = timeout(HONEST_BOUND, import)
        .await
        .expect("the FIFO import was answered at once")
        .unwrap()
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "offer_matrix_path"),
        "NOT_A_REGULAR_FILE"
    );
    app.stop().await;

    // A device inside the folder (the folder is /dev): refused by what it is, never read.
    let app = spawn(Backend::Sqlite, |s| s.import_dir = Some("/dev".into()))
        .await
        .unwrap();
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let err = timeout(
        HONEST_BOUND,
        admin.import_month(path_request("zero", &["/dev/zero"])),
    )
    .await
    .expect("answered at once")
    .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "offer_matrix_path"),
        "NOT_A_REGULAR_FILE"
    );
    common::assert_bad_field(&err, "price_list_paths[0]");
    honest_read(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_single_line_file_is_refused_by_the_record_cap() {
    use std::io::Write;
    let folder = tempfile::tempdir().unwrap();
    let secret = "SECRET-LINE-0123456789";
    {
        let file = std::fs::File::create(folder.path().join("huge.csv")).unwrap();
        let mut out = std::io::BufWriter::new(file);
        let block = secret.repeat((1 << 20) / secret.len());
        let mut written = 0;
        while written < 200 << 20 {
            out.write_all(block.as_bytes()).unwrap();
            written += block.len();
        }
        out.flush().unwrap();
    }
    let dir = folder.path().to_path_buf();
    let app = spawn(Backend::Sqlite, |s| s.import_dir = Some(dir))
        .await
        .unwrap();
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let matrix = common::demo_dir("2026-12").join("offer-matrix.csv");
    std::fs::copy(&matrix, folder.path().join("offer-matrix.csv")).unwrap();
    let import = admin.import_month(path_request("offer-matrix.csv", &["huge.csv"]));
    let (err, ()) = tokio::join!(
        async { timeout(Duration::from_secs(30), import).await.unwrap() },
        honest_read(&app)
    );
    let err = err.unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "price_list_paths[0]"),
        "RECORD_TOO_LONG"
    );
    assert!(!everything_in(&err).contains(secret));
    assert_bounded(&err);
    honest_read(&app).await;
    app.stop().await;
}

async fn upload_matches_the_path_form(backend: Backend) {
    let dir = common::demo_dir("2026-12");
    let Some(app) = spawn(backend, |s| s.import_dir = Some(dir.clone())).await else {
        return;
    };
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let changes = |admin: &mut common::AdminClient| {
        let mut admin = admin.clone();
        async move {
            let mut all = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = admin
                    .list_month_changes(pb::ListMonthChangesRequest {
                        month: "2026-12".into(),
                        page_size: 1000,
                        page_token,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                all.extend(page.changes);
                if page.next_page_token.is_empty() {
                    break all;
                }
                page_token = page.next_page_token;
            }
        }
    };
    // Relative paths, inside the folder.
    let by_path = december_request(Path::new(""));
    let by_path_answer = admin.import_month(by_path).await.unwrap().into_inner();
    let by_path_changes = changes(&mut admin).await;
    assert!(!by_path_changes.is_empty());

    let uploaded = common::upload(&mut admin, &december_request(&dir))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(uploaded, by_path_answer);
    assert_eq!(changes(&mut admin).await, by_path_changes);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_imports_the_demo_month_as_the_path_form_does_sqlite() {
    upload_matches_the_path_form(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_imports_the_demo_month_as_the_path_form_does_postgres() {
    upload_matches_the_path_form(Backend::Postgres).await;
}

fn header(files: &[(&str, pb::ImportFileKind)]) -> pb::UploadMonthRequest {
    pb::UploadMonthRequest {
        part: Some(Part::Header(pb::UploadMonthHeader {
            request_id: rid(),
            month: "2026-12".into(),
            files: files
                .iter()
                .map(|(name, kind)| pb::ImportFile {
                    name: (*name).into(),
                    kind: *kind as i32,
                })
                .collect(),
        })),
    }
}

fn chunk(file_index: u32, data: &[u8]) -> pb::UploadMonthRequest {
    pb::UploadMonthRequest {
        part: Some(Part::Chunk(pb::UploadMonthChunk {
            file_index,
            data: data.to_vec(),
        })),
    }
}

const TWO_FILES: [(&str, pb::ImportFileKind); 2] = [
    ("offer-matrix.csv", pb::ImportFileKind::OfferMatrix),
    ("pricelist-US.csv", pb::ImportFileKind::PriceList),
];

/// Sends `messages` and then keeps the stream open: only a refusal while receiving answers.
async fn refused_while_receiving(
    admin: &mut common::AdminClient,
    messages: Vec<pb::UploadMonthRequest>,
) -> tonic::Status {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let sender = tokio::spawn(async move {
        for m in messages {
            if tx.send(m).await.is_err() {
                return;
            }
        }
        // Never ends the stream by itself.
        tx.closed().await;
    });
    let err = timeout(
        Duration::from_secs(10),
        admin.upload_month(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
    .await
    .expect("refused before the stream ended")
    .unwrap_err();
    sender.abort();
    err
}

async fn uploads_over_their_caps_are_refused(backend: Backend) {
    let Some(app) = spawn(backend, |s| {
        s.import_max_file_bytes = 600_000;
        s.import_max_month_bytes = 2_000_000;
        s.import_max_record_bytes = 4096;
        s.import_max_chunk_bytes = 64 << 10;
    })
    .await
    else {
        return;
    };
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let line = b"a,b,c,d\n".repeat(8 << 10);

    // A file over its cap.
    let mut messages = vec![header(&TWO_FILES)];
    messages.extend((0..20).map(|_| chunk(1, &line)));
    let err = refused_while_receiving(&mut admin, messages).await;
    assert_eq!(common::assert_bad_field(&err, "files[1]"), "FILE_TOO_LARGE");

    // A month over its cap (each file under its own).
    let mut messages = vec![header(&[
        ("m.csv", pb::ImportFileKind::OfferMatrix),
        ("a.csv", pb::ImportFileKind::PriceList),
        ("b.csv", pb::ImportFileKind::PriceList),
        ("c.csv", pb::ImportFileKind::PriceList),
        ("d.csv", pb::ImportFileKind::PriceList),
    ])];
    for file in 0..5 {
        messages.extend((0..8).map(|_| chunk(file, &line)));
    }
    let err = refused_while_receiving(&mut admin, messages).await;
    assert_eq!(common::assert_bad_field(&err, "files"), "MONTH_TOO_LARGE");

    // A record over its cap.
    let long = format!("{}\n", "x".repeat(5000));
    let err = refused_while_receiving(
        &mut admin,
        vec![header(&TWO_FILES), chunk(0, long.as_bytes())],
    )
    .await;
    assert_eq!(
        common::assert_bad_field(&err, "files[0]"),
        "RECORD_TOO_LONG"
    );

    // A chunk over its cap (under the decode limit), and one over the decode limit.
    let big = vec![b'\n'; 100 << 10];
    let err = refused_while_receiving(&mut admin, vec![header(&TWO_FILES), chunk(0, &big)]).await;
    assert_eq!(
        common::assert_bad_field(&err, "chunk.data"),
        "FILE_TOO_LARGE"
    );
    let huge = vec![b'\n'; 1 << 20];
    let err = refused_while_receiving(&mut admin, vec![header(&TWO_FILES), chunk(0, &huge)]).await;
    assert!(
        matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{err:?}"
    );

    // A chunk for a file the header did not declare.
    let err = refused_while_receiving(&mut admin, vec![header(&TWO_FILES), chunk(2, b"x")]).await;
    assert_eq!(
        common::assert_bad_field(&err, "chunk.file_index"),
        "UNDECLARED_FILE"
    );

    // No header.
    let err = refused_while_receiving(&mut admin, vec![chunk(0, b"x")]).await;
    assert_eq!(common::assert_bad_field(&err, "header"), "REQUIRED");
    let err = admin
        .upload_month(tokio_stream::iter(Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "header"), "REQUIRED");

    // A header that declares no offer matrix, or two files of one name.
    let err = admin
        .upload_month(tokio_stream::iter(vec![header(&[(
            "a.csv",
            pb::ImportFileKind::PriceList,
        )])]))
        .await
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "header.files"),
        "ONE_OFFER_MATRIX"
    );
    let err = admin
        .upload_month(tokio_stream::iter(vec![header(&[
            ("a.csv", pb::ImportFileKind::OfferMatrix),
            ("a.csv", pb::ImportFileKind::PriceList),
        ])]))
        .await
        .unwrap_err();
    assert_eq!(
        common::assert_bad_field(&err, "header.files[1].name"),
        "DUPLICATE"
    );

    // More files than an upload may declare.
    let names: Vec<String> = (0..301).map(|i| format!("{i}.csv")).collect();
    let mut files: Vec<(&str, pb::ImportFileKind)> = names
        .iter()
        .map(|n| (n.as_str(), pb::ImportFileKind::PriceList))
        .collect();
    files[0].1 = pb::ImportFileKind::OfferMatrix;
    let err = admin
        .upload_month(tokio_stream::iter(vec![header(&files)]))
        .await
        .unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "header.files"), "TOO_MANY");

    // Nothing was imported, and the server still serves.
    let err = admin
        .list_month_changes(pb::ListMonthChangesRequest {
            month: "2026-12".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    honest_read(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_their_caps_are_refused_while_receiving_sqlite() {
    uploads_over_their_caps_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_their_caps_are_refused_while_receiving_postgres() {
    uploads_over_their_caps_are_refused(Backend::Postgres).await;
}

async fn no_file_content_in_errors(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else {
        return;
    };
    let mut admin = app.admin(None, Role::CatalogAdmin);
    let dir = common::demo_dir("2026-12");
    let matrix = std::fs::read(dir.join("offer-matrix.csv")).unwrap();
    let text = std::fs::read_to_string(dir.join("pricelist-US.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // A secret-looking line of two fields, and a secret inside a price, past the cut.
    let secret_line =
        "CSP_JWT_SECRET=hunter2-0123456789abcdef-do-not-share,root:x:0:0:root:/root:/bin/bash";
    let tail = "TAIL-OF-THE-SECRET-9f8e7d6c5b4a";
    lines.insert(2, secret_line.to_owned());
    lines[4] = lines[4].replacen(
        "\"USD\",\"",
        &format!("\"USD\",\"AWS_SECRET_ACCESS_KEY={}{tail}", "k".repeat(80)),
        1,
    );
    let list = lines.join("\n");
    // A header that is a secret too (a file that is not a price list at all).
    let passwd = format!("{secret_line}\n{secret_line}\n");
    let messages = vec![
        header(&[
            ("offer-matrix.csv", pb::ImportFileKind::OfferMatrix),
            ("pricelist-US.csv", pb::ImportFileKind::PriceList),
            ("passwd", pb::ImportFileKind::PriceList),
        ]),
        chunk(0, &matrix),
        chunk(1, list.as_bytes()),
        chunk(2, passwd.as_bytes()),
    ];
    let err = admin
        .upload_month(tokio_stream::iter(messages))
        .await
        .unwrap_err();
    assert_eq!(common::assert_bad_field(&err, "files[1]"), "BAD_FILE");
    common::assert_bad_field(&err, "files[2]");
    let all = everything_in(&err);
    assert!(!all.contains(secret_line), "{all}");
    assert!(!all.contains("root:x:0:0"), "{all}");
    assert!(!all.contains(tail), "{all}");
    assert!(all.contains("UnitPrice"), "{all}");
    assert_bounded(&err);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_error_never_contains_file_content_sqlite() {
    no_file_content_in_errors(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_error_never_contains_file_content_postgres() {
    no_file_content_in_errors(Backend::Postgres).await;
}
