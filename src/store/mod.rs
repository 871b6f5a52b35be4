//! Persistence: SeaORM entities, migrations and the queries the services need. Transactions
//! live here. The same code runs on SQLite (default) and PostgreSQL, chosen by the URL.

mod carts;
mod catalog;
mod changes;
mod customers;
mod direct;
pub mod entity;
mod idempotency;
mod kept_carts;
pub mod migration;
mod orders;
mod partners;
mod sqlite;
mod standing;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, InsertStatement, Query, SelectStatement, SubQueryStatement,
    ValueTuple, WithClause, WithQuery,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr,
    EntityName, EntityTrait, ExecResult, IdenStatic, Iterable, SqlErr, Statement,
};
use sea_orm_migration::MigratorTrait;

use crate::domain::DomainError;
use sqlite::SqliteBatch;

pub use crate::domain::customer::{NewCustomer, QualificationChange};
pub use catalog::{STATUS_IMPORTED, STATUS_PUBLISHED};
pub use changes::{CatalogState, NOTIFY_CHANNEL, Published};
pub use idempotency::WriteKey;
pub use orders::{CheckoutOutcome, Held};
pub use standing::Standing;

#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    url: String,
    /// SQLite has one writer at a time, and a writer that finds the file locked backs off by
    /// sleeping (up to 100 ms a try). Queuing this process's writers here instead hands the
    /// lock over at once (the write queue takes it for each group it writes). Correctness never
    /// rests on it: the transactions are safe without it (and PostgreSQL, shared by replicas,
    /// has none).
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: the guarded batches, written in groups by one task on its own connection.
    writes: Option<sqlite::WriteQueue>,
    /// The connections the hot statements go through, outside the pool (`direct.rs`).
    direct: Arc<direct::Set>,
    /// The customer standings this process keeps (see `standing.rs`).
    standings: Arc<standing::Standings>,
    /// The carts this process keeps, each at its version (see `kept_carts.rs`).
    kept_carts: Arc<kept_carts::KeptCarts>,
    /// PostgreSQL: tells other replicas what holdings changed.
    announcer: Option<customers::Announcer>,
}

impl From<DbErr> for DomainError {
    fn from(e: DbErr) -> Self {
        if is_pool_timeout(&e) {
            tracing::warn!(error = %e, "no database connection free within the acquire timeout");
            return DomainError::Overloaded {
                reason: "DATABASE_BUSY",
                message: "the service is busy".to_owned(),
                retry_after: Duration::from_secs(1),
            };
        }
        DomainError::Internal(format!("database: {e}"))
    }
}

/// Whether no pooled connection came free within the acquire timeout (sqlx's `PoolTimedOut`,
/// which SeaORM wraps as `ConnectionAcquire(Timeout)` or, on some paths, in a runtime error).
fn is_pool_timeout(e: &DbErr) -> bool {
    matches!(
        e,
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)
    ) || e.to_string().contains("pool timed out")
}

/// A stored value that does not parse: the database was changed behind the service's back.
fn corrupt(what: &str, value: &str) -> DomainError {
    DomainError::Internal(format!("stored {what} is not valid: {value:?}"))
}

fn uuid(what: &str, value: &str) -> Result<uuid::Uuid, DomainError> {
    uuid::Uuid::parse_str(value).map_err(|_| corrupt(what, value))
}

/// Whether a database error is a unique-key violation (a lost race on insert).
fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A guarded write's result: `Ok(false)` when a key or a foreign key refused it (the
/// statement, or the transaction it is in, then wrote nothing that will stand).
fn written(result: Result<ExecResult, DbErr>) -> Result<bool, DomainError> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(
                    SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_)
                )
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// A data-modifying statement, built for `backend`.
fn build(backend: DbBackend, statement: &SubQueryStatement) -> Result<Statement, DomainError> {
    Ok(match statement {
        SubQueryStatement::InsertStatement(s) => backend.build(s),
        SubQueryStatement::UpdateStatement(s) => backend.build(s),
        SubQueryStatement::DeleteStatement(s) => backend.build(s),
        SubQueryStatement::WithStatement(s) => backend.build(s),
        SubQueryStatement::SelectStatement(s) => backend.build(s),
    })
}

/// A guard for a statement in a CTE: the CTE `name` returned a row.
fn returned_a_row(name: &Alias) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(name.clone())
            .to_owned(),
    )
}

/// A named common table expression.
fn cte(name: &Alias, query: impl Into<SubQueryStatement>) -> CommonTableExpression {
    let mut cte = CommonTableExpression::new();
    cte.query(query).table_name(name.clone());
    cte
}

/// `WITH <with> <query>`, both moved in (sea-query's `WithClause::query` copies the whole
/// statement, every value of it included).
fn with_query(with: WithClause, query: impl Into<SubQueryStatement>) -> WithQuery {
    let mut statement = WithQuery::new();
    statement.with_clause(with).query(query);
    statement
}

/// `INSERT INTO <row's table> (<its set columns>, <extra columns>) SELECT <their values>
/// [WHERE <guard>]`: with a guard, the row is inserted only if it holds.
fn insert_select<A: ActiveModelTrait>(
    row: &A,
    extra: Vec<(<A::Entity as EntityTrait>::Column, Expr)>,
    guard: Option<Expr>,
) -> Result<InsertStatement, DomainError> {
    let (mut columns, values) = set_columns(row);
    let mut values: Vec<Expr> = values.into_iter().map(Expr::val).collect();
    for (column, value) in extra {
        columns.push(column);
        values.push(value);
    }
    let mut select = Query::select();
    select.exprs(values);
    if let Some(guard) = guard {
        select.and_where(guard);
    }
    insert_from(columns, select)
}

/// `INSERT INTO <rows' table> (<their set columns>) SELECT * FROM (VALUES <rows>) WHERE
/// <guard>`: the rows are inserted only if the guard holds. Every row sets the same columns.
fn insert_rows_select<A: ActiveModelTrait>(
    rows: impl IntoIterator<Item = A>,
    guard: Expr,
) -> Result<InsertStatement, DomainError> {
    let mut columns = Vec::new();
    let mut tuples = Vec::new();
    for row in rows {
        let (set, values) = set_columns(&row);
        if tuples.is_empty() {
            columns = set;
        } else if !set
            .iter()
            .map(|c| c.as_str())
            .eq(columns.iter().map(|c| c.as_str()))
        {
            return Err(DomainError::Internal(
                "rows of one insert set different columns".into(),
            ));
        }
        tuples.push(ValueTuple::Many(values));
    }
    if tuples.is_empty() {
        return Err(DomainError::Internal("an insert of no rows".into()));
    }
    // A VALUES list's columns are named column1, column2, ... (on PostgreSQL and SQLite).
    let mut select = Query::select();
    select
        .columns((1..=columns.len()).map(|i| Alias::new(format!("column{i}"))))
        .from_values(tuples, Alias::new("new_rows"))
        .and_where(guard);
    insert_from(columns, select)
}

/// The columns `row` sets, and their values, in the entity's column order.
fn set_columns<A: ActiveModelTrait>(
    row: &A,
) -> (Vec<<A::Entity as EntityTrait>::Column>, Vec<sea_orm::Value>) {
    <A::Entity as EntityTrait>::Column::iter()
        .filter_map(|column| row.get(column).into_value().map(|value| (column, value)))
        .unzip()
}

/// `INSERT INTO <the columns' table> (<columns>) <select>`.
fn insert_from<C: ColumnTrait>(
    columns: Vec<C>,
    select: SelectStatement,
) -> Result<InsertStatement, DomainError> {
    let mut insert = Query::insert();
    insert
        .into_table(C::EntityName::default().table_ref())
        .columns(columns)
        .select_from(select)
        .map_err(|e| DomainError::Internal(format!("insert from a select: {e}")))?;
    Ok(insert)
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`). A SQLite file is created if
    /// missing and runs in WAL mode.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DomainError> {
        Self::connect_with(url, max_connections, Duration::from_secs(10)).await
    }

    /// `connect`, with a call waiting at most `acquire_timeout` for a pooled connection.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, DomainError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(acquire_timeout)
            // Only a connection idle long enough to have been dropped by a server, proxy or
            // firewall is pinged before use (each ping is a round trip). sqlx also pings every
            // connection it takes back, whatever the options: the hot statements skip the
            // pool for that (`direct.rs`).
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(sqlite::options);
        let db = Database::connect(options).await?;
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        let write_gate = sqlite.then(|| Arc::new(tokio::sync::Mutex::new(())));
        let writes = match &write_gate {
            Some(gate) => Some(sqlite::WriteQueue::start(
                sqlite::Writer::new(url)?,
                gate.clone(),
            )?),
            None => None,
        };
        let direct = Arc::new(match sqlite {
            true => direct::Set::sqlite(sqlite::url_options(url)?, max_connections),
            false => direct::Set::postgres(url, max_connections)?,
        });
        let announcer = (!sqlite).then(|| customers::Announcer::start(direct.clone()));
        Ok(Self {
            url: url.to_owned(),
            write_gate,
            writes,
            direct,
            // On PostgreSQL, kept only once other replicas' changes are heard.
            standings: Arc::new(standing::Standings::new(sqlite)),
            kept_carts: Arc::default(),
            announcer,
            db,
        })
    }

    /// Where the hot statements go: the direct connections, which skip the pool's round trip
    /// after each statement. Reads on both backends; on PostgreSQL the single-statement
    /// writes too (SQLite's go through the writer thread).
    fn direct(&self) -> direct::Direct<'_> {
        direct::Direct(&self.direct)
    }

    /// Waits for this process's turn to write (SQLite only); hold it until the commit.
    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    /// Runs `batch` (SQLite) in a transaction, committed only if it applied in full; batches
    /// that queue together share one commit, each kept or undone on its own.
    async fn write_batch(&self, batch: SqliteBatch) -> Result<bool, DomainError> {
        match &self.writes {
            Some(writes) => writes.write(batch).await,
            None => Err(DomainError::Internal("a SQLite batch on PostgreSQL".into())),
        }
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        migration::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(self) -> Result<(), DomainError> {
        if let Some(writes) = &self.writes {
            writes.close().await;
        }
        self.direct.close().await;
        self.db.close().await?;
        Ok(())
    }
}
