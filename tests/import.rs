//! The price-list and offer-matrix importer on the real formats: the demo files, the special
//! rows, and bad files reported by file, row and column with nothing imported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use chrono::{TimeZone, Utc};
use csp_commerce::domain::catalog::{BillingCycle, CatalogData, Month, Segment, Term};
use csp_commerce::import::{ImportReport, Source, import_month};

const MATRIX_HEADER: &str = "ProductTitle,ProductId,SkuId,SkuTitle,ProvisioningId,ProvisioningString,MinLicenses,MaxLicenses,AssetOwnershipLimit,AssetOwnershipLimitType,ProductSkuPreRequisites,ProductSkuConversion,Description,AllowedCountries";
const PRICE_HEADER: &str = "ProductTitle,ProductId,SkuId,SkuTitle,Publisher,SkuDescription,UnitOfMeasure,TermDuration,BillingPlan,Market,Currency,UnitPrice,PricingTierRangeMin,PricingTierRangeMax,EffectiveStartDate,EffectiveEndDate,Tags,ERP Price,Segment";

fn demo_dir(month: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/demo")
        .join(month)
}

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
    import_month(Month::parse("m", month).unwrap(), matrix, lists).expect("the demo month imports")
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
