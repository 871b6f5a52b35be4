//! The writer thread: the queue of this process's batches, its rusqlite connection, and the
//! checkpointer that copies the WAL back into the file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{
    Batch, SqliteSynchronous, Stop, WRITING_PRAGMAS, answer, open, run, url_options, write_err,
};
use crate::domain::DomainError;

/// The writer connection (rusqlite, used on the writer's thread only), opened on first use
/// and again after a failure that may have left it inside a transaction.
#[derive(Debug)]
pub(in crate::store::engine) struct Writer {
    path: PathBuf,
    synchronous: SqliteSynchronous,
    connection: Option<rusqlite::Connection>,
}

impl Writer {
    pub(in crate::store::engine) fn new(
        url: &str,
        synchronous: SqliteSynchronous,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            path: url_options(url, synchronous)?.get_filename().to_owned(),
            synchronous,
            connection: None,
        })
    }

    fn open(&self) -> Result<rusqlite::Connection, DomainError> {
        let connection = open(&self.path, self.synchronous)?;
        let pragmas: String = WRITING_PRAGMAS
            .iter()
            .map(|(key, value)| format!("PRAGMA {key} = {value}; "))
            .collect();
        connection
            .execute_batch(&pragmas)
            .map_err(|e| write_err(&e))?;
        connection.set_prepared_statement_cache_capacity(256);
        Ok(connection)
    }

    pub(super) fn connection(&mut self) -> Result<&rusqlite::Connection, DomainError> {
        if self.connection.is_none() {
            self.connection = Some(self.open()?);
        }
        self.connection
            .as_ref()
            .ok_or_else(|| write_err(&"no connection"))
    }

    /// Runs `batch` as one transaction: `Ok(false)` if a statement changed other rows than
    /// it was pushed with, or a key refused one (nothing of it was kept).
    pub(in crate::store::engine) fn apply(&mut self, batch: Batch) -> Result<bool, DomainError> {
        let connection = self.connection()?;
        let Batch {
            statements,
            after_commit,
        } = batch;
        let run = connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(Stop::from)
            .and_then(|()| run(connection, statements))
            .and_then(|()| connection.execute_batch("COMMIT").map_err(Stop::from));
        match run {
            Ok(()) => {
                if let Some(then) = after_commit {
                    then();
                }
                Ok(true)
            }
            Err(stop) => {
                self.undo("ROLLBACK");
                answer(stop)
            }
        }
    }

    /// Runs `batches` in one transaction (one commit for all), each inside a savepoint of its
    /// own: a batch that stops is rolled back to its savepoint alone and the others go on.
    /// The answers are in the order of `batches`, each given only once the commit is done.
    pub(in crate::store::engine) fn apply_group(
        &mut self,
        mut batches: Vec<Batch>,
    ) -> Vec<Result<bool, DomainError>> {
        if batches.len() == 1
            && let Some(batch) = batches.pop()
        {
            return vec![self.apply(batch)];
        }
        let count = batches.len();
        let failed = |writer: &mut Self, e: &dyn std::fmt::Display| {
            writer.undo("ROLLBACK");
            (0..count)
                .map(|_| Err(write_err(&format!("group commit: {e}"))))
                .collect::<Vec<_>>()
        };
        let connection = match self.connection() {
            Ok(connection) => connection,
            Err(e) => return failed(self, &e),
        };
        if let Err(e) = connection.execute_batch("BEGIN IMMEDIATE") {
            return failed(self, &e);
        }
        let mut answers = Vec::with_capacity(count);
        let mut after_commits = Vec::new();
        for batch in batches {
            let Batch {
                statements,
                after_commit,
            } = batch;
            let ran = connection
                .execute_batch("SAVEPOINT batch")
                .map_err(Stop::from)
                .and_then(|()| run(connection, statements))
                .and_then(|()| {
                    connection
                        .execute_batch("RELEASE batch")
                        .map_err(Stop::from)
                });
            match ran {
                Ok(()) => {
                    answers.push(Ok(true));
                    after_commits.extend(after_commit);
                }
                Err(stop) => {
                    // Undo this batch alone; a connection that cannot has lost the group.
                    if let Err(e) = connection.execute_batch("ROLLBACK TO batch; RELEASE batch") {
                        return failed(self, &e);
                    }
                    answers.push(answer(stop));
                }
            }
        }
        if let Err(e) = connection.execute_batch("COMMIT") {
            return failed(self, &e);
        }
        for then in after_commits {
            then();
        }
        answers
    }

    /// Undoes an open transaction; a connection that cannot is closed (and with it its
    /// transaction) and opened again on its next use.
    fn undo(&mut self, sql: &'static str) {
        let Some(connection) = self.connection.as_ref() else {
            return;
        };
        if connection.is_autocommit() {
            return;
        }
        if let Err(e) = connection.execute_batch(sql) {
            tracing::error!(error = %e, "sqlite writer: {sql} failed; reconnecting");
            self.connection = None;
        }
    }
}

/// How often the checkpointer copies what the WAL gained back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Copies the WAL back into the database file, on a thread of its own, until `stop` is
/// dropped. PASSIVE: it waits for no writer or reader, and the writer's commits no longer
/// pay for the copying and its syncs (SQLite runs a checkpoint in the commit that crosses
/// `wal_autocheckpoint`).
fn checkpoints(
    path: &std::path::Path,
    synchronous: SqliteSynchronous,
    stop: &std::sync::mpsc::Receiver<()>,
) {
    let connection = match open(path, synchronous) {
        Ok(connection) => connection,
        Err(e) => {
            tracing::error!(error = %e, "sqlite checkpointer: no connection; the writer checkpoints");
            return;
        }
    };
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY)
    {
        if let Err(e) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

/// The most batches one commit takes.
const GROUP: usize = 64;

enum Command {
    Batch(Batch, oneshot::Sender<Result<bool, DomainError>>),
    Close(oneshot::Sender<()>),
}

/// The queue of this process's batches and the thread that writes them: whatever queued
/// while it wrote the last group is the next group, so writers that come together commit
/// together (group commit), on their turn of the store's write gate.
#[derive(Debug, Clone)]
pub(in crate::store::engine) struct WriteQueue {
    commands: mpsc::Sender<Command>,
}

impl WriteQueue {
    pub(in crate::store::engine) fn start(
        mut writer: Writer,
        gate: Arc<tokio::sync::Mutex<()>>,
    ) -> Result<Self, DomainError> {
        let (commands, mut queue) = mpsc::channel(4 * GROUP);
        let (stop_checkpoints, stopped) = std::sync::mpsc::channel::<()>();
        let (path, synchronous) = (writer.path.clone(), writer.synchronous);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoints(&path, synchronous, &stopped))
            .map_err(|e| write_err(&format!("no checkpointer thread: {e}")))?;
        // A thread of its own, outside the server's runtime: the statements run here, so
        // every writer waits on it and nothing else.
        let run = move || {
            // The checkpointer stops with the writer.
            let _stop_checkpoints = stop_checkpoints;
            while let Some(first) = queue.blocking_recv() {
                let mut batches = Vec::with_capacity(GROUP);
                let mut replies = Vec::with_capacity(GROUP);
                let mut close = None;
                let mut next = Some(first);
                while let Some(command) = next {
                    match command {
                        Command::Batch(batch, reply) => {
                            batches.push(batch);
                            replies.push(reply);
                        }
                        Command::Close(done) => close = Some(done),
                    }
                    next = (batches.len() < GROUP && close.is_none())
                        .then(|| queue.try_recv().ok())
                        .flatten();
                }
                if !batches.is_empty() {
                    let turn = gate.blocking_lock();
                    let answers = writer.apply_group(batches);
                    drop(turn);
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // A caller that went away finds its batch written all the same.
                        let _ = reply.send(answer);
                    }
                }
                if let Some(done) = close {
                    // Closed (its connection with it) before the answer.
                    drop(writer);
                    let _ = done.send(());
                    return;
                }
            }
        };
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(run)
            .map(|_| Self { commands })
            .map_err(|e| write_err(&format!("no thread: {e}")))
    }

    /// Writes `batch` (see `Writer::apply`); answers once it is committed.
    pub(in crate::store::engine) async fn write(&self, batch: Batch) -> Result<bool, DomainError> {
        let stopped = || write_err(&"stopped");
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Batch(batch, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Writes what is queued, then closes the writer connection.
    pub(in crate::store::engine) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.commands.send(Command::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}
