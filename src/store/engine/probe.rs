//! Whether the database answers, asked on a connection of its own (PostgreSQL), so that a
//! busy pool never reads as an outage and an outage is seen without waiting for a caller.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{ConnectOptions as _, Executor as _};

/// The `application_name` of the probe's connection.
pub const PROBE_APPLICATION_NAME: &str = "csp-probe";

/// Asks the database `SELECT 1`, each time within a timeout, reconnecting after a failure.
pub struct Probe {
    /// `None` on SQLite: the file is local and always there.
    options: Option<PgConnectOptions>,
    connection: Option<PgConnection>,
    timeout: Duration,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("postgres", &self.options.is_some())
            .field("connected", &self.connection.is_some())
            .finish()
    }
}

impl Probe {
    pub(in crate::store) fn new(postgres_url: Option<&str>, timeout: Duration) -> Self {
        let options = postgres_url.and_then(|url| {
            PgConnectOptions::from_str(url)
                .ok()
                .map(|o| o.application_name(PROBE_APPLICATION_NAME))
        });
        Self {
            options,
            connection: None,
            timeout,
        }
    }

    /// Whether the database answered `SELECT 1` within the timeout (connecting first if the
    /// last probe failed). Always true on SQLite.
    pub async fn reachable(&mut self) -> bool {
        let Some(options) = &self.options else {
            return true;
        };
        let connection = &mut self.connection;
        let asked = tokio::time::timeout(self.timeout, async {
            if connection.is_none() {
                *connection = Some(options.connect().await?);
            }
            match connection.as_mut() {
                Some(c) => c.execute("SELECT 1").await.map(|_| ()),
                None => Ok(()),
            }
        })
        .await;
        match asked {
            Ok(Ok(())) => true,
            _ => {
                // Dropped (its socket closed): the next probe starts on a fresh connection.
                self.connection = None;
                false
            }
        }
    }
}
