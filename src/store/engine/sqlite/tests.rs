//! The writer: batches whole or not at all, alone or in groups; values bound as sqlx binds them.
#![allow(clippy::unwrap_used)]

use super::*;
use sea_orm::sqlx;
use sea_orm::{DbBackend, Values};
use sea_query_sqlx::SqlxValues;

fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

fn count(writer: &mut Writer) -> i64 {
    let connection = writer.connection().unwrap();
    connection
        .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
        .unwrap()
}

/// A writer on a new file with one table `t`, and the directory holding the file.
fn writer_on_a_table() -> (tempfile::TempDir, Writer) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let mut writer = Writer::new(&url, SqliteSynchronous::Full).unwrap();
    let connection = writer.connection().unwrap();
    connection
        .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .unwrap();
    (dir, writer)
}

fn insert(id: i64) -> Statement {
    statement("INSERT INTO t (id, v) VALUES (?, 0)", vec![id.into()])
}

fn batch(statements: Vec<(Statement, u64)>) -> Batch {
    let mut batch = Batch::default();
    for (statement, rows) in statements {
        batch.push(statement, rows);
    }
    batch
}

/// A batch is kept whole or not at all, whichever statement stops it, and the writer
/// goes on writing afterwards (no transaction left open).
#[test]
fn a_batch_is_applied_in_full_or_not_at_all() {
    let (_dir, mut writer) = writer_on_a_table();

    let bump = statement("UPDATE t SET v = v + 1 WHERE id = ?", vec![1.into()]);
    assert!(
        writer
            .apply(batch(vec![(insert(1), 1), (bump, 1)]))
            .unwrap()
    );
    assert_eq!(count(&mut writer), 1);

    // The second statement changes no row: the first is not kept.
    let missing = statement("UPDATE t SET v = 1 WHERE id = ?", vec![99.into()]);
    assert!(
        !writer
            .apply(batch(vec![(insert(2), 1), (missing, 1)]))
            .unwrap()
    );
    assert_eq!(count(&mut writer), 1);

    // A statement changing more rows than expected stops it too.
    let wide = statement("UPDATE t SET v = 2", vec![]);
    assert!(
        !writer
            .apply(batch(vec![(insert(3), 1), (wide, 1)]))
            .unwrap()
    );
    assert_eq!(count(&mut writer), 1);

    // A key refusing a row: the batch is refused, not an error, and nothing is kept.
    assert!(
        !writer
            .apply(batch(vec![(insert(4), 1), (insert(1), 1)]))
            .unwrap()
    );
    assert_eq!(count(&mut writer), 1);

    // Any other error is an error, and leaves no transaction behind either.
    let broken = statement("UPDATE missing SET v = 1", vec![]);
    assert!(
        writer
            .apply(batch(vec![(insert(5), 1), (broken, 1)]))
            .is_err()
    );

    assert!(
        writer
            .apply(batch(vec![(insert(6), 1), (insert(7), 1)]))
            .unwrap()
    );
    assert_eq!(count(&mut writer), 3);
}

/// Batches committed together are each kept or undone on their own, whichever stops.
#[test]
fn a_group_keeps_each_batch_whole_or_not_at_all() {
    let (_dir, mut writer) = writer_on_a_table();
    let missing = || statement("UPDATE t SET v = 1 WHERE id = ?", vec![99.into()]);
    let answers = writer.apply_group(vec![
        batch(vec![(insert(1), 1), (insert(2), 1)]),
        batch(vec![(insert(3), 1), (missing(), 1)]),
        batch(vec![(insert(4), 1), (insert(1), 1)]),
        batch(vec![(insert(5), 1)]),
        batch(vec![
            (insert(6), 1),
            (statement("UPDATE nowhere SET v = 1", vec![]), 1),
        ]),
        batch(vec![(insert(7), 1), (missing(), 1)]),
    ]);
    let answers: Vec<_> = answers.into_iter().map(|a| a.ok()).collect();
    assert_eq!(
        answers,
        vec![
            Some(true),
            Some(false),
            Some(false),
            Some(true),
            None,
            Some(false)
        ]
    );
    let connection = writer.connection().unwrap();
    let ids: Vec<i64> = connection
        .prepare("SELECT id FROM t ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, vec![1, 2, 5]);

    // The writer goes on, alone or in a group.
    let answers = writer.apply_group(vec![
        batch(vec![(insert(8), 1)]),
        batch(vec![(insert(9), 1)]),
    ]);
    assert!(answers.iter().all(|a| matches!(a, Ok(true))));
    assert_eq!(count(&mut writer), 5);
}

/// The writer binds every kind of value the store writes exactly as sqlx-sqlite does
/// (the pool's connections write the same columns, and the queries compare them).
#[tokio::test]
async fn the_writer_binds_values_as_sqlx_does() {
    let (dir, mut writer) = writer_on_a_table();
    writer
        .connection()
        .unwrap()
        .execute_batch("CREATE TABLE v (n INTEGER, a, b, c, d, e, f, g, h, i)")
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T07:17:12.123456Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let whole = chrono::DateTime::parse_from_rfc3339("2026-12-31T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let values = |n: i64| -> Vec<sea_orm::Value> {
        vec![
            n.into(),
            "text".into(),
            true.into(),
            7i32.into(),
            (-9_000_000_000i64).into(),
            at.into(),
            whole.into(),
            Option::<String>::None.into(),
            Option::<chrono::DateTime<chrono::Utc>>::None.into(),
            uuid::Uuid::from_u128(42).into(),
        ]
    };
    let sql = "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    assert!(
        writer
            .apply(batch(vec![(statement(sql, values(1)), 1)]))
            .unwrap()
    );

    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let mut sqlx_connection = url_options(&url, SqliteSynchronous::Full)
        .unwrap()
        .connect()
        .await
        .unwrap();
    sqlx::query_with(sql, SqlxValues(Values(values(2))))
        .execute(&mut sqlx_connection)
        .await
        .unwrap();

    let quoted = "SELECT quote(a) || ' ' || quote(b) || ' ' || quote(c) || ' ' || quote(d) \
                  || ' ' || quote(e) || ' ' || quote(f) || ' ' || quote(g) || ' ' || quote(h) \
                  || ' ' || quote(i) FROM v ORDER BY n";
    let rows: Vec<String> = sqlx::query_scalar(quoted)
        .fetch_all(&mut sqlx_connection)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], rows[1]);
    assert!(rows[0].contains(" '2026-12-03T07:17:12.123456+00:00' "));
}

#[test]
fn the_writer_syncs_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    for (setting, expected) in [(SqliteSynchronous::Full, 2), (SqliteSynchronous::Normal, 1)] {
        let path = dir.path().join(format!("{setting:?}.db"));
        let url = format!("sqlite://{}", path.display());
        let mut writer = Writer::new(&url, setting).unwrap();
        let connection = writer.connection().unwrap();
        let in_force: i64 = connection
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(in_force, expected, "{setting:?}");
        // The checkpointer's connection is opened the same way.
        let checkpointer = open(&path, setting).unwrap();
        let in_force: i64 = checkpointer
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(in_force, expected, "{setting:?}: the checkpointer");
    }
}

/// The pool's connections and the writer's keep their pages alike (`WRITING_PRAGMAS`):
/// temp_store 2 = MEMORY.
#[tokio::test]
async fn every_writing_connection_leaves_checkpoints_to_the_checkpointer() {
    use sqlx::ConnectOptions as _;
    let (dir, mut writer) = writer_on_a_table();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let expected = [-8192, 2, 20_000];
    let connection = writer.connection().unwrap();
    let writers: Vec<i64> = ["cache_size", "temp_store", "wal_autocheckpoint"]
        .iter()
        .map(|p| {
            connection
                .query_row(&format!("PRAGMA {p}"), [], |row| row.get(0))
                .unwrap()
        })
        .collect();
    assert_eq!(writers, expected, "the writer's connection");
    let mut pool = pool_options(parsed_url(&url).unwrap(), SqliteSynchronous::Full)
        .connect()
        .await
        .unwrap();
    let mut pools = Vec::new();
    for p in ["cache_size", "temp_store", "wal_autocheckpoint"] {
        let (value,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA {p}")))
            .fetch_one(&mut pool)
            .await
            .unwrap();
        pools.push(value);
    }
    assert_eq!(pools, expected, "a pool connection");
}
