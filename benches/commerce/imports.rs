//! Issue 4: a generated month of 100,000 price rows imported with the CLI, then a repriced copy
//! imported over it (the diff), on each backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::support::{Backend, Database, manifest_dir};
use crate::{Args, DEMO_MARKETS, DEMO_MONTH, EXTRA_MARKETS, NEXT_MONTH, SECRET};

/// Data lines of a CSV file with one record per line.
fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().skip(1).filter(|l| !l.trim().is_empty())
}

/// The 2026-12 demo month plus synthetic markets (copies of the US list, in USD) until at least
/// `rows` price rows; the offer matrix allows the new markets. Returns the files and row count.
fn big_month(dir: &Path, rows: usize) -> Result<(PathBuf, Vec<PathBuf>, usize)> {
    let demo = manifest_dir().join("data/demo").join(NEXT_MONTH);
    let mut lists = Vec::new();
    let mut total = 0;
    for market in DEMO_MARKETS {
        let path = demo.join(format!("pricelist-{market}.csv"));
        total += data_lines(&std::fs::read_to_string(&path)?).count();
        lists.push(path);
    }
    let us = std::fs::read_to_string(demo.join("pricelist-US.csv"))?;
    let header = us.lines().next().ok_or_else(|| anyhow!("empty US list"))?;
    let us_rows: Vec<&str> = data_lines(&us).collect();
    let mut extra = Vec::new();
    for market in EXTRA_MARKETS {
        if total >= rows {
            break;
        }
        let mut text = String::with_capacity(us.len());
        text.push_str(header);
        text.push_str("\r\n");
        for row in &us_rows {
            if !row.contains("\"US\",\"USD\"") {
                bail!("a US row without \"US\",\"USD\": {row}");
            }
            text.push_str(&row.replacen("\"US\",\"USD\"", &format!("\"{market}\",\"USD\""), 1));
            text.push_str("\r\n");
        }
        let path = dir.join(format!("pricelist-{market}.csv"));
        std::fs::write(&path, text)?;
        lists.push(path);
        extra.push(market);
        total += us_rows.len();
    }
    if total < rows {
        bail!("only {total} rows with every synthetic market");
    }
    let matrix = std::fs::read_to_string(demo.join("offer-matrix.csv"))?;
    let suffix: String = extra.iter().map(|m| format!(";{m}")).collect();
    let mut text = String::with_capacity(matrix.len() + 320 * suffix.len());
    for (i, line) in matrix.lines().enumerate() {
        text.push_str(line);
        if i > 0 && !line.trim().is_empty() {
            text.push_str(&suffix);
        }
        text.push_str("\r\n");
    }
    let matrix_path = dir.join("offer-matrix.csv");
    std::fs::write(&matrix_path, text)?;
    Ok((matrix_path, lists, total))
}

/// The 2026-12 demo month with the prices of every `every`-th availability (by first
/// appearance in the files) raised by one currency unit (0: unchanged). Returns the matrix and
/// the price lists.
pub(crate) fn repriced_month(dir: &Path, every: usize) -> Result<(PathBuf, Vec<PathBuf>)> {
    let demo = manifest_dir().join("data/demo").join(NEXT_MONTH);
    let mut keys = std::collections::HashMap::new();
    let mut lists = Vec::new();
    for market in DEMO_MARKETS {
        let text = std::fs::read_to_string(demo.join(format!("pricelist-{market}.csv")))?;
        let mut out = String::with_capacity(text.len() + 4096);
        for (n, line) in text.lines().enumerate() {
            let mut fields: Vec<String> = line
                .trim_matches('"')
                .split("\",\"")
                .map(str::to_owned)
                .collect();
            if n > 0 && every > 0 && fields.len() >= 18 {
                // ProductId, SkuId, Market, Segment (absent in the old format).
                let key = (
                    fields[1].clone(),
                    fields[2].clone(),
                    fields[9].clone(),
                    fields.get(18).cloned().unwrap_or_default(),
                );
                let next = keys.len();
                let index = *keys.entry(key).or_insert(next);
                let price = fields[11].clone();
                let (units, rest) = price.split_once('.').unwrap_or((price.as_str(), ""));
                if index % every == 0
                    && let Ok(units) = units.parse::<u64>()
                    && price.parse::<f64>().is_ok_and(|p| p > 0.0)
                {
                    fields[11] = if rest.is_empty() {
                        (units + 1).to_string()
                    } else {
                        format!("{}.{rest}", units + 1)
                    };
                }
            }
            out.push('"');
            out.push_str(&fields.join("\",\""));
            out.push_str("\"\r\n");
        }
        let path = dir.join(format!("pricelist-{market}.csv"));
        std::fs::write(&path, out)?;
        lists.push(path);
    }
    let matrix = dir.join("offer-matrix.csv");
    std::fs::copy(demo.join("offer-matrix.csv"), &matrix)?;
    Ok((matrix, lists))
}

/// A CLI run under `/usr/bin/time -v` with `env` (`CSP_*` settings): wall seconds, peak RSS in
/// MiB, stderr.
pub(crate) fn timed(
    bin: &Path,
    database_url: &str,
    cli: &[String],
    env: &[(&str, String)],
) -> Result<(f64, f64, String)> {
    let dir = tempfile::tempdir()?;
    let time_file = dir.path().join("time.txt");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg("-o")
        .arg(&time_file)
        .arg(bin)
        .args(cli)
        .env("CSP_DATABASE_URL", database_url)
        .env("CSP_JWT_SECRET", SECRET)
        .env("CSP_LOG", "warn")
        .env_remove("CSP_CONFIG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running /usr/bin/time (apt-get install -y time)")?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("{} failed: {}", cli.join(" "), stderr.trim());
    }
    let time = std::fs::read_to_string(&time_file)?;
    let kib: f64 = time
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow!("no peak RSS in /usr/bin/time's output"))?;
    Ok((wall, kib / 1024.0, stderr))
}

#[derive(Debug, Clone)]
pub(crate) struct ImportResult {
    pub(crate) backend: Backend,
    pub(crate) rows: usize,
    pub(crate) import_s: f64,
    pub(crate) import_mib: f64,
    pub(crate) changes_s: f64,
    pub(crate) changes_mib: f64,
    pub(crate) changes: String,
}

pub(crate) fn import(bin: &Path, args: &Args, backend: Backend) -> Result<ImportResult> {
    eprintln!("== import + diff on {}", backend.label());
    let dir = tempfile::tempdir()?;
    let (matrix, lists, rows) = big_month(dir.path(), args.import_rows)?;
    let db = Database::fresh(backend, &args.postgres)?;
    let import_args = |month: &str, matrix: &Path, lists: &[PathBuf], publish: bool| {
        let mut v = vec![
            "import".to_owned(),
            "--month".to_owned(),
            month.to_owned(),
            "--offer-matrix".to_owned(),
            matrix.display().to_string(),
        ];
        for l in lists {
            v.push("--price-list".into());
            v.push(l.display().to_string());
        }
        if publish {
            v.push("--publish".into());
        }
        v
    };
    let demo = manifest_dir().join("data/demo").join(DEMO_MONTH);
    let demo_lists: Vec<PathBuf> = DEMO_MARKETS
        .iter()
        .map(|m| demo.join(format!("pricelist-{m}.csv")))
        .collect();
    let (s, _, _) = timed(
        bin,
        &db.url,
        &import_args(
            DEMO_MONTH,
            &demo.join("offer-matrix.csv"),
            &demo_lists,
            true,
        ),
        &[],
    )?;
    eprintln!("  demo month {DEMO_MONTH} imported and published in {s:.1} s");
    let (import_s, import_mib, import_err) = timed(
        bin,
        &db.url,
        &import_args(NEXT_MONTH, &matrix, &lists, false),
        &[],
    )?;
    eprintln!("  {}", import_err.trim());
    let (changes_s, changes_mib, changes_err) = timed(
        bin,
        &db.url,
        &["changes".into(), "--month".into(), NEXT_MONTH.into()],
        &[],
    )?;
    let changes = changes_err.trim().lines().last().unwrap_or("").to_owned();
    println!(
        "import    {:<10} {rows} rows ({} files): import {import_s:.2} s, peak RSS {import_mib:.0} MiB; \
         changes {changes_s:.2} s, peak RSS {changes_mib:.0} MiB ({changes})",
        backend.label(),
        lists.len()
    );
    drop(db);
    Ok(ImportResult {
        backend,
        rows,
        import_s,
        import_mib,
        changes_s,
        changes_mib,
        changes,
    })
}
