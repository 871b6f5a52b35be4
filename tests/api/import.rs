//! The price-list and offer-matrix importer on the real formats: the demo files, the special
//! rows, and bad files reported by file, row and column with nothing imported.

use std::process::Command;

use chrono::{TimeZone, Utc};
use csp_commerce::domain::catalog::{BillingCycle, CatalogData, Month, Segment, Term};
use csp_commerce::import::{ImportLimits, ImportReport, Source, import_month};

use crate::common::demo_dir;

const MATRIX_HEADER: &str = "ProductTitle,ProductId,SkuId,SkuTitle,ProvisioningId,ProvisioningString,MinLicenses,MaxLicenses,AssetOwnershipLimit,AssetOwnershipLimitType,ProductSkuPreRequisites,ProductSkuConversion,Description,AllowedCountries";
const PRICE_HEADER: &str = "ProductTitle,ProductId,SkuId,SkuTitle,Publisher,SkuDescription,UnitOfMeasure,TermDuration,BillingPlan,Market,Currency,UnitPrice,PricingTierRangeMin,PricingTierRangeMax,EffectiveStartDate,EffectiveEndDate,Tags,ERP Price,Segment";

fn demo_month(month: &str) -> CatalogData {
    let dir = demo_dir(month);
    let lists = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pricelist-")
        })
        .map(|p| Source {
            name: p.display().to_string(),
            reader: std::fs::File::open(&p).unwrap(),
        })
        .collect();
    let matrix = Source {
        name: "offer-matrix.csv".into(),
        reader: std::fs::File::open(dir.join("offer-matrix.csv")).unwrap(),
    };
    import_month(
        Month::parse("m", month).unwrap(),
        matrix,
        lists,
        &ImportLimits::default(),
    )
    .expect("the demo month imports")
}

fn import_texts(matrix: &str, lists: &[(&str, &str)]) -> Result<CatalogData, ImportReport> {
    import_month(
        Month::parse("m", "2026-11").unwrap(),
        Source {
            name: "matrix.csv".into(),
            reader: matrix.as_bytes(),
        },
        lists
            .iter()
            .map(|(name, text)| Source {
                name: (*name).to_owned(),
                reader: text.as_bytes(),
            })
            .collect(),
        &ImportLimits::default(),
    )
}

const MATRIX: &str = "ProductTitle,ProductId,SkuId,SkuTitle,ProvisioningId,ProvisioningString,MinLicenses,MaxLicenses,AssetOwnershipLimit,AssetOwnershipLimitType,ProductSkuPreRequisites,ProductSkuConversion,Description,AllowedCountries
\"Office 365 E3\",\"CFQ7TTC0LF8R\",\"0001\",\"Office 365 E3\",\"x\",\"\",\"1\",\"300\",\"\",\"\",\"\",\"\",\"The suite\",\"US;DE\"
\"Audio Conferencing\",\"CFQ7TTC0AUDC\",\"0001\",\"Audio Conferencing\",\"y\",\"\",\"1\",\"300\",\"\",\"\",\"CFQ7TTC0LF8R/0001\",\"\",\"Add-on\",\"US;DE\"
";

fn row(sku: &str, term: &str, plan: &str, price: &str, start: &str, end: &str) -> String {
    format!(
        "\"Office 365 E3\",\"CFQ7TTC0LF8R\",\"{sku}\",\"Office 365 E3\",\"Microsoft Corporation\",\"d\",\"Licenses\",\"{term}\",\"{plan}\",\"US\",\"USD\",\"{price}\",\"0\",\"\",\"{start}\",\"{end}\",\"ProductType=OnlineServices\",\"{price}\",\"Commercial\"\n"
    )
}

#[test]
fn the_demo_month_imports_with_its_special_rows() {
    let data = demo_month("2026-11");
    assert!(data.products.len() > 100);
    assert!(data.availabilities.len() > 1000);

    // Overlapping rows: the newer row (start 2026-11-01) wins over the 1753 placeholder row.
    let e5 = data
        .availabilities
        .iter()
        .find(|a| {
            a.product_id.as_str() == "CFQ7TTC0G513"
                && a.sku_id.as_str() == "0001"
                && a.country.as_str() == "US"
                && a.segment == Segment::Commercial
        })
        .unwrap();
    let p1m = e5.price_for(Term::P1M, BillingCycle::Monthly).unwrap();
    assert_eq!(p1m.unit_price.to_string(), "29.28 USD");
    assert_eq!(
        p1m.effective_start,
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
    );

    // Ended mid-month.
    let ended = data
        .availabilities
        .iter()
        .find(|a| a.product_id.as_str() == "CFQ7TTC0DYGN" && a.sku_id.as_str() == "0001")
        .unwrap();
    assert_eq!(
        ended.end_of_sale,
        Some(Utc.with_ymd_and_hms(2026, 11, 20, 23, 59, 59).unwrap())
    );

    // The IE file has no Segment column: everything in it is commercial.
    let ie: Vec<_> = data
        .availabilities
        .iter()
        .filter(|a| a.country.as_str() == "IE")
        .collect();
    assert!(!ie.is_empty());
    assert!(ie.iter().all(|a| a.segment == Segment::Commercial));

    // Charity is the nonprofit segment; JPY has whole prices.
    assert!(
        data.availabilities
            .iter()
            .any(|a| a.segment == Segment::Nonprofit)
    );
    let jp = data
        .availabilities
        .iter()
        .find(|a| a.country.as_str() == "JP")
        .unwrap();
    assert_eq!(jp.currency.code(), "JPY");
    assert!(
        jp.terms
            .iter()
            .all(|t| t.unit_price.micros % 1_000_000 == 0)
    );

    // Add-ons carry their prerequisites.
    let addon = data
        .skus
        .iter()
        .find(|s| s.product_id.as_str() == "CFQ7TTC0O3H3" && s.id.as_str() == "0001")
        .unwrap();
    assert!(addon.is_addon());
}

#[test]
fn the_next_demo_month_imports_too() {
    let data = demo_month("2026-12");
    assert!(
        data.skus
            .iter()
            .any(|s| s.product_id.as_str() == "DZH318Z0BQ5S")
    );
}

#[test]
fn both_date_formats_and_the_placeholder_year_are_read() {
    let list = format!(
        "{PRICE_HEADER}\n{}{}",
        row(
            "0001",
            "P1M",
            "Monthly",
            "10.00",
            "1/1/1753 12:00:00 AM",
            "12/31/9999 11:59:59 PM"
        ),
        row(
            "0001",
            "P1Y",
            "Annual",
            "100.00",
            "2026-11-01T00:00:00Z",
            "9999-12-31T23:59:59Z"
        ),
    );
    let data = import_texts(MATRIX, &[("us.csv", &list)]).unwrap();
    let a = &data.availabilities[0];
    assert_eq!(a.terms.len(), 2);
    assert!(
        a.terms.iter().all(|t| t.effective_end.is_none()),
        "year 9999 is an open end"
    );
    assert_eq!(a.end_of_sale, None);
}

#[test]
fn every_problem_is_reported_with_file_row_and_column_and_nothing_is_returned() {
    let list = format!(
        "{PRICE_HEADER}\n{}{}{}{}{}{}",
        row(
            "0001",
            "P1M",
            "Monthly",
            "-5.00",
            "2026-11-01T00:00:00Z",
            "9999-12-31T23:59:59Z"
        ),
        row(
            "0001",
            "P1Y",
            "Annual",
            "abc",
            "2026-11-01T00:00:00Z",
            "9999-12-31T23:59:59Z"
        ),
        row(
            "0001",
            "P1Y",
            "Monthly",
            "10.00",
            "the 1st of November",
            "9999-12-31T23:59:59Z"
        ),
        row(
            "0001",
            "P2Y",
            "Monthly",
            "10.00",
            "2026-11-01T00:00:00Z",
            "9999-12-31T23:59:59Z"
        ),
        row(
            "0009",
            "P1M",
            "Monthly",
            "10.00",
            "2026-11-01T00:00:00Z",
            "9999-12-31T23:59:59Z"
        ),
        "\"too\",\"few\"\n",
    );
    let report = import_texts(MATRIX, &[("us.csv", &list)]).unwrap_err();
    let at = |row: u64, column: &str| {
        report
            .problems
            .iter()
            .find(|p| p.file == "us.csv" && p.row == row && p.column == column)
            .unwrap_or_else(|| panic!("no problem at us.csv:{row} [{column}] in {report}"))
    };
    assert!(at(2, "UnitPrice").message.contains("negative"));
    assert!(at(3, "UnitPrice").message.contains("not a decimal"));
    assert!(at(4, "EffectiveStartDate").message.contains("not a date"));
    assert!(at(5, "TermDuration").message.contains("P2Y"));
    assert!(at(6, "SkuId").message.contains("not in the offer matrix"));
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.row == 7 && p.message.contains("fields"))
    );
}

#[test]
fn a_wrong_header_or_unknown_currency_is_refused() {
    let wrong = format!("{}\n", PRICE_HEADER.replace("UnitPrice", "Price"));
    let report = import_texts(MATRIX, &[("bad.csv", &wrong)]).unwrap_err();
    assert_eq!(report.problems[0].file, "bad.csv");
    assert_eq!(report.problems[0].row, 1);

    let list = format!(
        "{PRICE_HEADER}\n{}",
        row(
            "0001",
            "P1M",
            "Monthly",
            "10.00",
            "2026-11-01T00:00:00Z",
            "9999-12-31T23:59:59Z"
        )
        .replace("\"USD\"", "\"ZZZ\"")
    );
    let report = import_texts(MATRIX, &[("us.csv", &list)]).unwrap_err();
    assert_eq!(report.problems[0].column, "Currency");

    let matrix = MATRIX.replace("\"CFQ7TTC0LF8R/0001\"", "\"CFQ7TTC0NOPE/0001\"");
    let report = import_texts(&matrix, &[]).unwrap_err();
    assert_eq!(report.problems[0].column, "ProductSkuPreRequisites");
    assert_eq!(report.problems[0].row, 3);
    assert!(MATRIX.starts_with(MATRIX_HEADER));
}

#[test]
fn the_cli_import_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.sqlite").display());
    let bin = env!("CARGO_BIN_EXE_csp-commerce");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(["--database-url", &db])
            .args(args)
            .env("CSP_LOG", "warn")
            .output()
            .unwrap()
    };
    let good = demo_dir("2026-11");
    let mut args = vec!["import", "--publish", "--month", "2026-11"];
    let matrix = good.join("offer-matrix.csv").display().to_string();
    args.extend(["--offer-matrix", &matrix]);
    let lists: Vec<String> = ["US", "DE"]
        .iter()
        .map(|m| {
            good.join(format!("pricelist-{m}.csv"))
                .display()
                .to_string()
        })
        .collect();
    for l in &lists {
        args.extend(["--price-list", l]);
    }
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("published 2026-11"));

    // A bad December: the report names file, row and column, and November stays current.
    let bad = dir.path().join("pricelist-US.csv");
    let text = std::fs::read_to_string(demo_dir("2026-12").join("pricelist-US.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[5] = lines[5].replacen("\"USD\",\"", "\"USD\",\"-", 1);
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let dec_matrix = demo_dir("2026-12")
        .join("offer-matrix.csv")
        .display()
        .to_string();
    let bad_path = bad.display().to_string();
    let out = run(&[
        "import",
        "--month",
        "2026-12",
        "--offer-matrix",
        &dec_matrix,
        "--price-list",
        &bad_path,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{bad_path}:6 [UnitPrice]")),
        "{stderr}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = csp_commerce::store::Store::connect(&db, 1).await.unwrap();
        assert_eq!(
            store.current_month().await.unwrap().unwrap().to_string(),
            "2026-11"
        );
        let dec = store
            .load_month(Month::parse("m", "2026-12").unwrap())
            .await
            .unwrap();
        assert!(
            dec.products.is_empty(),
            "nothing of the bad month is stored"
        );
    });
}

/// The importer fed random bytes, random CSV-shaped rows, truncated real files and endless
/// lines: it never panics, its report stays small, and it never pulls more than a record's cap
/// (plus the readers' buffers) past the last record end, whatever the input.
mod properties {
    use std::cell::Cell;
    use std::io::Read;
    use std::rc::Rc;
    use std::sync::OnceLock;

    use csp_commerce::import::{ImportLimits, ImportReport, MAX_REPORTED_PROBLEMS, Source};
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::{MATRIX, MATRIX_HEADER, PRICE_HEADER};
    use crate::common::demo_dir;
    use csp_commerce::domain::catalog::Month;

    const LIMITS: ImportLimits = ImportLimits {
        max_file_bytes: 1 << 20,
        max_month_bytes: 1 << 22,
        max_record_bytes: 2048,
    };
    /// The csv crate's buffer and the capped reader's one read: what may be read past a cap.
    const SLACK: u64 = 2 * (8 << 10);
    /// The longest problem message: fixed text and an echo cut to 64 characters.
    const MAX_MESSAGE: usize = 300;

    /// Counts the bytes the importer pulls.
    struct Counting<R> {
        inner: R,
        read: Rc<Cell<u64>>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.set(self.read.get() + n as u64);
            Ok(n)
        }
    }

    fn import(matrix: &[u8], lists: &[&[u8]]) -> Result<(), ImportReport> {
        csp_commerce::import::import_month(
            Month::parse("m", "2026-11").unwrap(),
            Source {
                name: "matrix.csv".into(),
                reader: matrix,
            },
            lists
                .iter()
                .enumerate()
                .map(|(i, l)| Source {
                    name: format!("list-{i}.csv"),
                    reader: *l,
                })
                .collect(),
            &LIMITS,
        )
        .map(|_| ())
    }

    fn assert_small(report: &ImportReport) {
        assert!(report.problems.len() <= MAX_REPORTED_PROBLEMS);
        for p in &report.problems {
            assert!(p.message.len() <= MAX_MESSAGE, "{p}");
        }
    }

    fn demo_files() -> &'static (Vec<u8>, Vec<u8>) {
        static FILES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
        FILES.get_or_init(|| {
            let dir = demo_dir("2026-11");
            (
                std::fs::read(dir.join("offer-matrix.csv")).unwrap(),
                std::fs::read(dir.join("pricelist-US.csv")).unwrap(),
            )
        })
    }

    /// A cell: real-looking values, empty, quoted odd text, or anything printable.
    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            prop::sample::select(vec![
                "CFQ7TTC0LF8R",
                "0001",
                "P1M",
                "P1Y",
                "P3Y",
                "Monthly",
                "Annual",
                "OneTime",
                "US",
                "DE",
                "USD",
                "EUR",
                "10.00",
                "-1",
                "1e9",
                "0.0000001",
                "2026-11-01T00:00:00Z",
                "12/31/9999 11:59:59 PM",
                "1/1/1753 12:00:00 AM",
                "ProductType=Azure;Trial",
                "Commercial",
                "Charity",
            ])
            .prop_map(str::to_owned),
            "[ -~]{0,40}",
            "\"[^\"]{0,20}\"",
            "\\PC{0,30}",
        ]
    }

    fn rows(width: usize) -> impl Strategy<Value = String> {
        vec(vec(cell(), width - 2..width + 2), 0..12).prop_map(|rows| {
            rows.iter()
                .map(|r| r.join(","))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_bytes_never_panic(
            matrix in vec(any::<u8>(), 0..4096),
            list in vec(any::<u8>(), 0..4096),
        ) {
            if let Err(report) = import(&matrix, &[&list]) {
                assert_small(&report);
            }
        }

        #[test]
        fn random_csv_rows_never_panic(matrix_rows in rows(14), list_rows in rows(19)) {
            let matrix = format!("{MATRIX_HEADER}\n{matrix_rows}");
            let list = format!("{PRICE_HEADER}\n{list_rows}");
            if let Err(report) = import(matrix.as_bytes(), &[list.as_bytes()]) {
                assert_small(&report);
            }
            // The same rows against a good matrix.
            if let Err(report) = import(MATRIX.as_bytes(), &[list.as_bytes()]) {
                assert_small(&report);
            }
        }

        #[test]
        fn a_record_over_the_cap_is_refused_before_it_is_buffered(
            before in rows(19),
            length in 2049usize..300_000,
            quoted in any::<bool>(),
            byte in prop::sample::select(b"x,;\"\t \xff".to_vec()),
        ) {
            let mut text = format!("{PRICE_HEADER}\n{before}\n").into_bytes();
            let known = text.len() as u64;
            if quoted {
                text.push(b'"');
            }
            text.extend(std::iter::repeat_n(byte, length));
            let read = Rc::new(Cell::new(0));
            let report = csp_commerce::import::import_month(
                Month::parse("m", "2026-11").unwrap(),
                Source { name: "matrix.csv".into(), reader: MATRIX.as_bytes() },
                vec![Source {
                    name: "list.csv".into(),
                    reader: Counting { inner: &text[..], read: read.clone() },
                }],
                &LIMITS,
            )
            .unwrap_err();
            assert_small(&report);
            // Whether the cap or the end of the text came first, nothing past the cap is pulled.
            prop_assert!(read.get() <= known + LIMITS.max_record_bytes + SLACK, "{} bytes read", read.get());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 12,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn truncated_real_files_never_panic(matrix_cut in 0.0f64..=1.0, list_cut in 0.0f64..=1.0) {
            let (matrix, list) = demo_files();
            let m = &matrix[..(matrix.len() as f64 * matrix_cut) as usize];
            let l = &list[..(list.len() as f64 * list_cut) as usize];
            if let Err(report) = import(m, &[l]) {
                assert_small(&report);
            }
        }

        #[test]
        fn an_endless_file_ends_at_a_cap(byte in any::<u8>()) {
            let read = Rc::new(Cell::new(0));
            let report = csp_commerce::import::import_month(
                Month::parse("m", "2026-11").unwrap(),
                Source { name: "matrix.csv".into(), reader: MATRIX.as_bytes() },
                vec![Source {
                    name: "endless.csv".into(),
                    reader: Counting { inner: std::io::repeat(byte), read: read.clone() },
                }],
                &LIMITS,
            )
            .unwrap_err();
            assert_small(&report);
            prop_assert!(
                report.problems.iter().any(|p| p.reason == "RECORD_TOO_LONG" || p.reason == "FILE_TOO_LARGE"),
                "{report}"
            );
            prop_assert!(read.get() <= LIMITS.max_file_bytes + SLACK);
        }
    }
}
