//! A guarded write is whole or refused on SQLite, and one chained statement on PostgreSQL.
#![allow(clippy::unwrap_used)]

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::{Engine, GuardedWrite, Insert, Outcome, SqliteSynchronous};
use crate::store::entity::idempotency_key;

fn key(request: &str) -> idempotency_key::ActiveModel {
    idempotency_key::ActiveModel {
        partner_id: Set("p".into()),
        request_id: Set(request.into()),
        operation: Set("op".into()),
        fingerprint: Set("f".into()),
        resource_id: Set("r".into()),
        created_at: Set(chrono::Utc::now()),
    }
}

fn select_row(id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("t"))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned()
}

fn bump_row(id: i64) -> sea_orm::sea_query::UpdateStatement {
    Query::update()
        .table(Alias::new("t"))
        .value(Alias::new("v"), Expr::col(Alias::new("v")).add(1))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned()
}

#[test]
fn postgres_runs_the_steps_as_one_statement_each_guarded_by_the_one_before() {
    let mut write = GuardedWrite::default();
    write
        .lock(select_row(1))
        .update(bump_row(1), 1)
        .insert(Insert::row(&key("a")))
        .insert(Insert::rows([key("b"), key("c")]).unwrap());
    let (statement, rows, _) = write.postgres().unwrap();
    let sql = statement.sql;
    assert_eq!(rows, 2, "the last step's rows: {sql}");
    assert!(
        sql.starts_with(r#"WITH "step0" AS (SELECT "id" FROM "t" WHERE "id" = $1 FOR UPDATE)"#),
        "{sql}"
    );
    for (step, before) in [(1, 0), (2, 1)] {
        let guarded = format!(r#""step{step}" AS ("#);
        let guard = format!(r#"FROM "step{before}")"#);
        let at = sql.find(&guarded).unwrap();
        assert!(sql[at..].contains(&guard), "step {step} unguarded: {sql}");
        assert!(
            sql[at..].contains("RETURNING 1"),
            "step {step} returns nothing: {sql}"
        );
    }
    assert!(sql.contains(r#"INSERT INTO "idempotency_keys""#), "{sql}");
    assert!(
        sql.ends_with(r#"FROM "step2")"#),
        "the last step is unguarded: {sql}"
    );

    // One step: the statement as it is.
    let mut write = GuardedWrite::default();
    write.update(bump_row(1), 3);
    let (statement, rows, _) = write.postgres().unwrap();
    assert_eq!(rows, 3);
    assert_eq!(
        statement.sql,
        r#"UPDATE "t" SET "v" = "v" + $1 WHERE "id" = $2"#
    );
}

#[tokio::test]
async fn sqlite_keeps_a_guarded_write_whole_or_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let engine = Engine::connect(
        &url,
        2,
        std::time::Duration::from_secs(5),
        SqliteSynchronous::Full,
    )
    .await
    .unwrap();
    let pool = engine.pool();
    pool.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .await
        .unwrap();
    pool.execute_unprepared("INSERT INTO t VALUES (1, 0)")
        .await
        .unwrap();
    let v = || async {
        let row = engine
            .pool()
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT v FROM t WHERE id = 1",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "v").unwrap()
    };

    let committed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut write = GuardedWrite::default();
    write.lock(select_row(1)).update(bump_row(1), 1);
    let seen = committed.clone();
    write.after_commit(move || seen.store(true, std::sync::atomic::Ordering::SeqCst));
    assert_eq!(engine.write(write).await.unwrap(), Outcome::Written);
    assert_eq!(v().await, 1);
    assert!(committed.load(std::sync::atomic::Ordering::SeqCst));

    // The lock finds no row: the update before it is undone.
    let mut write = GuardedWrite::default();
    write.update(bump_row(1), 1).lock(select_row(2));
    assert_eq!(engine.write(write).await.unwrap(), Outcome::Refused);
    // A step changing other rows than it must: refused, and what came before undone.
    let mut write = GuardedWrite::default();
    write.update(bump_row(1), 1).update(bump_row(2), 1);
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = refused.clone();
    write.after_commit(move || seen.store(true, std::sync::atomic::Ordering::SeqCst));
    assert_eq!(engine.write(write).await.unwrap(), Outcome::Refused);
    assert!(!refused.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(v().await, 1);
    engine.close().await.unwrap();
}

/// `PRAGMA synchronous` as `engine`'s pool and its direct connections run it (0 OFF, 1
/// NORMAL, 2 FULL). The writer's connection: `sqlite/tests.rs`.
async fn synchronous_in_force(engine: &Engine) -> (i64, i64) {
    let pragma = || Statement::from_string(DbBackend::Sqlite, "PRAGMA synchronous");
    let pool = engine
        .pool()
        .query_one_raw(pragma())
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    let direct = engine.direct().query_all_raw(pragma()).await.unwrap()[0]
        .try_get_by_index::<i64>(0)
        .unwrap();
    (pool, direct)
}

#[tokio::test]
async fn sqlite_syncs_every_commit_unless_told_normal() {
    let dir = tempfile::tempdir().unwrap();
    for (setting, expected) in [(SqliteSynchronous::Full, 2), (SqliteSynchronous::Normal, 1)] {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{setting:?}.db")).display()
        );
        let engine = Engine::connect(&url, 2, std::time::Duration::from_secs(5), setting)
            .await
            .unwrap();
        assert_eq!(
            synchronous_in_force(&engine).await,
            (expected, expected),
            "{setting:?}: the pool's and the direct connections' PRAGMA synchronous"
        );
        engine.close().await.unwrap();
    }
    assert_eq!(SqliteSynchronous::default(), SqliteSynchronous::Full);
}

#[tokio::test]
async fn a_sqlite_file_is_one_engines_until_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("one.db").display());
    let connect = || {
        Engine::connect(
            &url,
            2,
            std::time::Duration::from_secs(5),
            Default::default(),
        )
    };
    let first = connect().await.unwrap();

    let refused = connect().await.unwrap_err();
    let message = refused.to_string();
    assert!(
        matches!(refused, crate::domain::DomainError::Unavailable(_)),
        "{refused:?}"
    );
    assert!(
        message.contains(&format!("in use by process {}", std::process::id())),
        "{message}"
    );
    assert!(message.contains("one.db-lock"), "{message}");

    // A clone keeps the lock; the last one dropped releases it.
    let clone = first.clone();
    first.close().await.unwrap();
    assert!(
        connect().await.is_err(),
        "a clone of the engine still holds the file"
    );
    drop(clone);
    connect().await.unwrap().close().await.unwrap();
}
