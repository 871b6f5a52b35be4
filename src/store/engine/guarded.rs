//! A guarded write: statements ("steps") in order, each of which must change its rows, or the
//! whole write is refused and nothing of it is kept. The aggregates say what to write; this
//! module compiles it for the backend:
//! - SQLite: one batch for the writer thread (`sqlite/`), which counts each step's rows and
//!   rolls the batch back at the first that is off.
//! - PostgreSQL: one statement (one round trip, atomic by itself): the steps as a chain of
//!   CTEs, each run only if the one before it found or changed a row (`WHERE EXISTS`), the
//!   last as the statement itself, whose count of changed rows says whether the write holds.
//!   A step that finds nothing stops the steps after it, not those before, so a write puts
//!   the steps that may find nothing first (a lock, a claim at a version) and the inserts,
//!   which write every row or fail on a key (undoing the statement), after them.
//!
//! On both, a key refusing a row (a request id already recorded, say) refuses the write.

use sea_orm::sea_query::{
    Alias, CommonTableExpression, DeleteStatement, DynIden, Expr, InsertStatement, IntoIden,
    LockType, Query, SelectStatement, SubQueryStatement, TableRef, UpdateStatement, ValueTuple,
    WithClause, WithQuery,
};
use sea_orm::{ActiveModelTrait, DbBackend, EntityName, EntityTrait, Iterable, Statement};

use super::sqlite::Batch;
use crate::domain::DomainError;

/// Whether a guarded write was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Outcome {
    Written,
    /// A step found or changed other rows than it must, or a key refused one: nothing of the
    /// write was kept.
    Refused,
}

/// What runs right after the commit that keeps a write, before its caller is answered (on
/// SQLite on the writer thread, whether or not the caller still waits).
pub(super) type AfterCommit = Box<dyn FnOnce() + Send>;

/// Statements written together or not at all (see the module's comment).
#[derive(Default)]
pub(in crate::store) struct GuardedWrite {
    steps: Vec<Step>,
    pub(super) after_commit: Option<AfterCommit>,
}

impl std::fmt::Debug for GuardedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedWrite")
            .field("steps", &self.steps.len())
            .field("after_commit", &self.after_commit.is_some())
            .finish()
    }
}

enum Step {
    /// Must find one row; PostgreSQL locks it (`FOR UPDATE`) for the rest of the statement.
    Lock(SelectStatement),
    Update(UpdateStatement, u64),
    Delete(DeleteStatement, u64),
    Insert(Insert),
}

impl GuardedWrite {
    /// The row `select` finds must exist. On PostgreSQL it is locked for the rest of the
    /// write: writes that lock the same rows first take their locks in one order.
    pub(in crate::store) fn lock(&mut self, select: SelectStatement) -> &mut Self {
        self.steps.push(Step::Lock(select));
        self
    }

    /// `update` must change exactly `rows` rows. On PostgreSQL a step before the last only
    /// has to change a row for the rest to run, and a last step that changes other than `rows`
    /// rows makes the answer `Refused` without undoing what it changed.
    pub(in crate::store) fn update(&mut self, update: UpdateStatement, rows: u64) -> &mut Self {
        self.steps.push(Step::Update(update, rows));
        self
    }

    /// `delete` must delete exactly `rows` rows.
    pub(in crate::store) fn delete(&mut self, delete: DeleteStatement, rows: u64) -> &mut Self {
        self.steps.push(Step::Delete(delete, rows));
        self
    }

    /// Every row of `insert` is written (an insert of no rows is no step).
    pub(in crate::store) fn insert(&mut self, insert: Insert) -> &mut Self {
        if !insert.rows.is_empty() {
            self.steps.push(Step::Insert(insert));
        }
        self
    }

    /// Runs `then` right after the commit that keeps this write, before its caller is
    /// answered; never if the write is refused.
    pub(in crate::store) fn after_commit(&mut self, then: impl FnOnce() + Send + 'static) {
        self.after_commit = Some(Box::new(then));
    }

    /// SQLite: the batch the writer thread applies.
    pub(super) fn sqlite(self) -> Result<Batch, DomainError> {
        let sqlite = DbBackend::Sqlite;
        let mut batch = Batch::default();
        for step in self.steps {
            match step {
                Step::Lock(select) => batch.push_lookup(sqlite.build(&select), 1),
                Step::Update(update, rows) => batch.push(sqlite.build(&update), rows),
                Step::Delete(delete, rows) => batch.push(sqlite.build(&delete), rows),
                Step::Insert(insert) => {
                    let rows = insert.rows.len() as u64;
                    batch.push(sqlite.build(&insert.statement(None)?), rows);
                }
            }
        }
        if let Some(then) = self.after_commit {
            batch.after_commit(then);
        }
        Ok(batch)
    }

    /// PostgreSQL: the one statement, and the rows its last step must change. Also hands
    /// back what runs after the commit.
    pub(super) fn postgres(self) -> Result<(Statement, u64, Option<AfterCommit>), DomainError> {
        let postgres = DbBackend::Postgres;
        let count = self.steps.len();
        let mut with = Query::with();
        let mut last = None;
        for (i, step) in self.steps.into_iter().enumerate() {
            let guard = i
                .checked_sub(1)
                .map(|before| returned_a_row(&step_name(before)));
            let in_cte = i + 1 < count;
            let (statement, rows) = step.postgres(guard, in_cte)?;
            if in_cte {
                with.cte(cte(&step_name(i), statement));
            } else {
                last = Some((statement, rows));
            }
        }
        let Some((statement, rows)) = last else {
            return Err(DomainError::Internal("a guarded write of no steps".into()));
        };
        let statement = if count == 1 {
            build(postgres, &statement)
        } else {
            postgres.build(&with_query(with, statement))
        };
        Ok((statement, rows, self.after_commit))
    }
}

impl Step {
    /// The step's statement, run only if `guard` holds, returning a row per row it changed
    /// when it is a CTE; and the rows it must change.
    fn postgres(
        self,
        guard: Option<Expr>,
        in_cte: bool,
    ) -> Result<(SubQueryStatement, u64), DomainError> {
        let returning = || Query::returning().expr(Expr::cust("1"));
        Ok(match self {
            Step::Lock(mut select) => {
                if !in_cte {
                    return Err(DomainError::Internal(
                        "a guarded write ends in a lock".into(),
                    ));
                }
                select.lock(LockType::Update).and_where_option(guard);
                (select.into(), 1)
            }
            Step::Update(mut update, rows) => {
                update.and_where_option(guard);
                if in_cte {
                    update.returning(returning());
                }
                (update.into(), rows)
            }
            Step::Delete(mut delete, rows) => {
                delete.and_where_option(guard);
                if in_cte {
                    delete.returning(returning());
                }
                (delete.into(), rows)
            }
            Step::Insert(insert) => {
                let rows = insert.rows.len() as u64;
                let mut insert = insert.statement(guard)?;
                if in_cte {
                    insert.returning(returning());
                }
                (insert.into(), rows)
            }
        })
    }
}

/// Rows to insert into one table, every row setting the same columns.
#[derive(Debug)]
pub(in crate::store) struct Insert {
    table: TableRef,
    columns: Vec<DynIden>,
    rows: Vec<Vec<sea_orm::Value>>,
    /// Columns computed by the database (one row only), after the set ones.
    computed: Vec<(DynIden, Expr)>,
}

impl Insert {
    /// The columns `row` sets, with their values.
    pub(in crate::store) fn row<A: ActiveModelTrait>(row: &A) -> Self {
        let (columns, values) = set_columns(row);
        Self {
            table: A::Entity::default().table_ref(),
            columns,
            rows: vec![values],
            computed: Vec::new(),
        }
    }

    /// `rows`, which must all set the same columns.
    pub(in crate::store) fn rows<A: ActiveModelTrait>(
        rows: impl IntoIterator<Item = A>,
    ) -> Result<Self, DomainError> {
        let mut insert = Self {
            table: A::Entity::default().table_ref(),
            columns: Vec::new(),
            rows: Vec::new(),
            computed: Vec::new(),
        };
        for row in rows {
            let (columns, values) = set_columns(&row);
            if insert.rows.is_empty() {
                insert.columns = columns;
            } else if !columns
                .iter()
                .map(|c| c.to_string())
                .eq(insert.columns.iter().map(|c| c.to_string()))
            {
                return Err(DomainError::Internal(
                    "rows of one insert set different columns".into(),
                ));
            }
            insert.rows.push(values);
        }
        Ok(insert)
    }

    /// Sets `column` of the (one) row to `value`, computed by the database.
    pub(in crate::store) fn computed(mut self, column: impl IntoIden, value: Expr) -> Self {
        self.computed.push((column.into_iden(), value));
        self
    }

    /// `INSERT ... VALUES`, or with a guard `INSERT ... SELECT <the values> WHERE <guard>`
    /// (several rows: `SELECT * FROM (VALUES ...) WHERE <guard>`).
    fn statement(self, guard: Option<Expr>) -> Result<InsertStatement, DomainError> {
        let invalid = |e: &dyn std::fmt::Display| DomainError::Internal(format!("insert: {e}"));
        if !self.computed.is_empty() && self.rows.len() != 1 {
            return Err(invalid(&"computed columns in an insert of several rows"));
        }
        let Self {
            table,
            mut columns,
            rows,
            computed,
        } = self;
        let mut computed_values = Vec::with_capacity(computed.len());
        for (column, value) in computed {
            columns.push(column);
            computed_values.push(value);
        }
        let mut insert = Query::insert();
        insert.into_table(table).columns(columns.clone());
        match guard {
            None => {
                for row in rows {
                    let values = row.into_iter().map(Expr::val);
                    insert
                        .values(values.chain(computed_values.drain(..)))
                        .map_err(|e| invalid(&e))?;
                }
            }
            Some(guard) if rows.len() == 1 => {
                let values = rows.into_iter().flatten().map(Expr::val);
                let mut select = Query::select();
                select.exprs(values.chain(computed_values)).and_where(guard);
                insert.select_from(select).map_err(|e| invalid(&e))?;
            }
            Some(guard) => {
                // A VALUES list's columns are named column1, column2, ... (on PostgreSQL and
                // SQLite).
                let mut select = Query::select();
                select
                    .columns((1..=columns.len()).map(|i| Alias::new(format!("column{i}"))))
                    .from_values(
                        rows.into_iter().map(ValueTuple::Many),
                        Alias::new("new_rows"),
                    )
                    .and_where(guard);
                insert.select_from(select).map_err(|e| invalid(&e))?;
            }
        }
        Ok(insert)
    }
}

/// The columns `row` sets, and their values, in the entity's column order.
fn set_columns<A: ActiveModelTrait>(row: &A) -> (Vec<DynIden>, Vec<sea_orm::Value>) {
    <A::Entity as EntityTrait>::Column::iter()
        .filter_map(|column| {
            row.get(column)
                .into_value()
                .map(|value| (column.into_iden(), value))
        })
        .unzip()
}

fn step_name(i: usize) -> Alias {
    Alias::new(format!("step{i}"))
}

/// A guard: the CTE `name` returned a row.
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

/// A data-modifying statement, built for `backend`.
fn build(backend: DbBackend, statement: &SubQueryStatement) -> Statement {
    match statement {
        SubQueryStatement::InsertStatement(s) => backend.build(s),
        SubQueryStatement::UpdateStatement(s) => backend.build(s),
        SubQueryStatement::DeleteStatement(s) => backend.build(s),
        SubQueryStatement::WithStatement(s) => backend.build(s),
        SubQueryStatement::SelectStatement(s) => backend.build(s),
    }
}
