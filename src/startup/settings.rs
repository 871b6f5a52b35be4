//! The settings of the parts `Application` starts, read from the flat `Settings`.

use std::time::Duration;

use crate::config::Settings;
use crate::grpc::listener::ListenerSettings;
use crate::import::ImportLimits;
use crate::service::feed::{FeedSettings, StreamLimits};
use crate::store::{SnapshotFile, Store};

/// The change feed's timings and stream caps.
pub(super) fn feed(settings: &Settings) -> FeedSettings {
    FeedSettings {
        progress_interval: Duration::from_millis(settings.watch_progress_interval_ms.max(1)),
        slow_subscriber_timeout: Duration::from_millis(settings.slow_subscriber_timeout_ms.max(1)),
        poll_interval: Duration::from_millis(settings.change_poll_interval_ms.max(10)),
        replay_connections: match settings.watch_replay_connections {
            0 => (settings.max_db_connections / 4).max(1),
            n => n,
        } as usize,
        recent_changes: settings.watch_recent_changes,
        streams: StreamLimits {
            per_user: settings.watch_streams_per_user,
            per_partner: settings.watch_streams_per_partner,
            total: settings.watch_streams_total,
        },
    }
}

/// The accept loop's limits.
pub(super) fn listener(limits: &Settings) -> ListenerSettings {
    ListenerSettings {
        max_connections: limits.max_connections,
        handshake_timeout: Duration::from_millis(limits.handshake_timeout_ms),
        // Never before a live peer's answer to a keepalive ping is due.
        idle_timeout: Duration::from_millis(
            limits
                .idle_timeout_ms
                .max(limits.http2_keepalive_interval_ms + limits.http2_keepalive_timeout_ms),
        ),
        tcp_keepalive: Duration::from_secs(60),
        // Closed this long after the GOAWAY of `max_connection_age`.
        max_age: match (
            limits.max_connection_age_ms,
            limits.max_connection_age_grace_ms,
        ) {
            (0, _) | (_, 0) => None,
            (age, grace) => Some(Duration::from_millis(age.saturating_add(grace))),
        },
    }
}

/// Where the current month's snapshot is kept between starts: `catalog_snapshot_dir`, else
/// beside a SQLite file; none when `catalog_snapshot_file` is off or on PostgreSQL without a
/// folder.
pub(super) fn snapshot_file(settings: &Settings, store: &Store) -> Option<SnapshotFile> {
    if !settings.catalog_snapshot_file {
        return None;
    }
    match &settings.catalog_snapshot_dir {
        Some(dir) => Some(SnapshotFile::in_dir(dir)),
        None => store.sqlite_file().map(|f| SnapshotFile::beside(&f)),
    }
}

/// The import caps of `settings`.
pub fn import_limits(settings: &Settings) -> ImportLimits {
    ImportLimits {
        max_file_bytes: settings.import_max_file_bytes,
        max_month_bytes: settings.import_max_month_bytes,
        max_record_bytes: settings.import_max_record_bytes,
    }
}
