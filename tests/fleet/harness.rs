//! The fleet: a private PostgreSQL cluster (its own port and folder: the machine's PostgreSQL is
//! never touched), 3 replicas of the server binary on one database, and HAProxy in front, as
//! `deploy/haproxy/haproxy.cfg` configures it. Everything it starts is killed when it drops.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{self, TEST_SECRET};
use csp_commerce::domain::customer::Role;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

/// The replicas behind HAProxy.
pub const REPLICAS: usize = 3;
/// PostgreSQL's programs (Debian's layout); `CSP_PG_BIN` overrides it.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// What a start-up may take (debug binaries, 2 shared cores).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The programs the fleet needs that are missing, each with how to get it; empty when all are
/// there.
fn missing_tools() -> Vec<String> {
    let mut missing = Vec::new();
    for (tool, package) in [("haproxy", "haproxy"), ("pgbouncer", "pgbouncer")] {
        if which(tool).is_none() {
            missing.push(format!(
                "{tool}: apt-get update && apt-get install -y {package}"
            ));
        }
    }
    for tool in ["initdb", "pg_ctl"] {
        if !pg_bin().join(tool).exists() {
            missing.push(format!(
                "{}: apt-get install -y postgresql-15 (or point CSP_PG_BIN at PostgreSQL's bin folder)",
                pg_bin().join(tool).display()
            ));
        }
    }
    missing
}

/// Whether the fleet can run here. When it cannot, says so loudly on stderr, and fails
/// when `CI` is set (CI installs what the fleet needs: a skip there would hide a failure).
pub fn can_run() -> bool {
    let missing = missing_tools();
    if missing.is_empty() {
        return true;
    }
    let bar = "*".repeat(78);
    let mut banner =
        format!("\n{bar}\n*** SKIPPED: the fleet test needs programs this machine lacks:\n");
    for m in &missing {
        banner.push_str(&format!("***   {m}\n"));
    }
    banner.push_str(
        "*** (`.ci/run` installs them.) Nothing was proved about replicas behind HAProxy.\n",
    );
    banner.push_str(&format!("{bar}\n"));
    eprintln!("{banner}");
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set and the fleet cannot run: {missing:?}"
    );
    false
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(tool))
        .find(|path| path.is_file())
}

fn pg_bin() -> PathBuf {
    std::env::var_os("CSP_PG_BIN").map_or_else(|| PathBuf::from(PG_BIN), PathBuf::from)
}

/// Whether this process runs as root (then PostgreSQL and pgbouncer, which refuse root, run
/// as `postgres`). `/proc/self` belongs to the process's effective user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The `postgres` user's uid and gid, from /etc/passwd.
fn postgres_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("a postgres user (running as root, PostgreSQL must run as postgres)");
    let fields: Vec<&str> = line.split(':').collect();
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

/// A PostgreSQL program as the `postgres` user when this runs as root (`runuser`), else as
/// ourselves; run to completion.
async fn pg_tool(tool: &str, args: &[&str]) {
    let program = pg_bin().join(tool);
    let mut command = match running_as_root() {
        true => {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        }
        false => Command::new(&program),
    };
    let out = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A config template of `deploy/` with its `{{NAME}}` placeholders filled in.
fn template(path: &str, values: &[(&str, String)]) -> String {
    let mut text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"));
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    let unfilled = text
        .lines()
        .find(|l| l.contains("{{") && !l.trim_start().starts_with(['#', ';']));
    assert!(unfilled.is_none(), "{path}: unfilled: {unfilled:?}");
    text
}

/// How the fleet is set up.
#[derive(Default)]
pub struct Options {
    /// `CSP_*` settings of every replica, on top of the fleet's own.
    pub env: Vec<(&'static str, String)>,
    /// The replicas' pool (and direct connections) go through pgbouncer, in transaction
    /// mode; the listener goes straight to PostgreSQL (`database_listen_url`).
    pub through_pgbouncer: bool,
}

/// The quota settings a fleet sets out of reach unless a scenario sets them.
const QUOTAS: &[&str] = &[
    "CSP_PARTNER_ORDER_REQUESTS_PER_MINUTE",
    "CSP_CATALOG_PARTNER_REQUESTS_PER_MINUTE",
    "CSP_CATALOG_USER_REQUESTS_PER_MINUTE",
    "CSP_CUSTOMER_PARTNER_REQUESTS_PER_MINUTE",
    "CSP_CUSTOMER_USER_REQUESTS_PER_MINUTE",
    "CSP_ORDER_USER_REQUESTS_PER_MINUTE",
    "CSP_ADMIN_USER_REQUESTS_PER_MINUTE",
];

pub struct Replica {
    pub addr: String,
    child: Option<Child>,
}

pub struct Fleet {
    /// Owned by `postgres` when running as root; holds the cluster, the configs and the logs.
    dir: tempfile::TempDir,
    pg_data: PathBuf,
    /// PostgreSQL itself, the fleet's database.
    pub database_url: String,
    /// `http://` HAProxy's front.
    pub front: String,
    pub replicas: Vec<Replica>,
    haproxy: Child,
    pgbouncer: Option<Child>,
}

impl Fleet {
    /// The whole set, up: every replica SERVING and UP in HAProxy. `None` when a program is
    /// missing and `CI` is not set (a banner says what to install).
    pub async fn start(options: Options) -> Option<Self> {
        if !can_run() {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("csp-fleet")
            .tempdir()
            .unwrap();
        if running_as_root() {
            let (uid, gid) = postgres_ids();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let run = dir.path().to_owned();
        let pg_data = run.join("pg");
        let pg_port = common::free_port();
        pg_tool(
            "initdb",
            &[
                "-D",
                pg_data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        .await;
        let pg_options = format!(
            "-p {pg_port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            run.display()
        );
        pg_tool(
            "pg_ctl",
            &[
                "-D",
                pg_data.to_str().unwrap(),
                "-l",
                run.join("postgres.log").to_str().unwrap(),
                "-o",
                &pg_options,
                "-w",
                "start",
            ],
        )
        .await;
        let server = format!("postgres://postgres@127.0.0.1:{pg_port}");
        let admin = Database::connect(format!("{server}/postgres"))
            .await
            .unwrap();
        admin
            .execute_unprepared("CREATE DATABASE csp")
            .await
            .unwrap();
        let _ = admin.close().await;
        let database_url = format!("{server}/csp");

        let mut fleet_env: Vec<(&'static str, String)> = vec![
            ("CSP_DATABASE_URL", database_url.clone()),
            ("CSP_DEMO", "true".into()),
            ("CSP_JWT_SECRET", TEST_SECRET.into()),
            ("CSP_QUOTA_REPLICAS", REPLICAS.to_string()),
            ("CSP_MAX_DB_CONNECTIONS", "4".into()),
            ("CSP_LOG", "warn".into()),
        ];
        fleet_env.extend(QUOTAS.iter().map(|&q| (q, "1000000000".to_owned())));
        let pgbouncer = if options.through_pgbouncer {
            let port = common::free_port();
            let values = [
                ("LISTEN_PORT", port.to_string()),
                ("PG_PORT", pg_port.to_string()),
                ("RUN_DIR", run.display().to_string()),
            ];
            let ini = run.join("pgbouncer.ini");
            std::fs::write(&ini, template("deploy/pgbouncer/pgbouncer.ini", &values)).unwrap();
            std::fs::copy(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/pgbouncer/userlist.txt"),
                run.join("userlist.txt"),
            )
            .unwrap();
            let mut command = Command::new(which("pgbouncer").unwrap());
            if running_as_root() {
                let (uid, gid) = postgres_ids();
                for file in [&ini, &run.join("userlist.txt")] {
                    std::os::unix::fs::chown(file, Some(uid), Some(gid)).unwrap();
                }
                command.uid(uid).gid(gid);
            }
            let child = command
                .arg(&ini)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            fleet_env.push((
                "CSP_DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:{port}/csp"),
            ));
            fleet_env.push(("CSP_DATABASE_LISTEN_URL", database_url.clone()));
            Some(child)
        } else {
            None
        };
        fleet_env.extend(options.env);

        // The first replica migrates and seeds the empty database alone; then the others.
        let mut replicas = vec![spawn_replica(&run, 1, &fleet_env)];
        wait_serving(&run, &mut replicas[0], 1).await;
        for n in 2..=REPLICAS {
            replicas.push(spawn_replica(&run, n, &fleet_env));
        }
        for (i, replica) in replicas.iter_mut().enumerate().skip(1) {
            wait_serving(&run, replica, i + 1).await;
        }

        let front = format!("127.0.0.1:{}", common::free_port());
        let mut values = vec![
            ("FRONT", front.clone()),
            ("RUN_DIR", run.display().to_string()),
        ];
        let names = ["REPLICA_1", "REPLICA_2", "REPLICA_3"];
        for (name, replica) in names.iter().zip(&replicas) {
            values.push((name, replica.addr.trim_start_matches("http://").to_owned()));
        }
        let cfg = run.join("haproxy.cfg");
        std::fs::write(&cfg, template("deploy/haproxy/haproxy.cfg", &values)).unwrap();
        let haproxy = Command::new(which("haproxy").unwrap())
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(run.join("haproxy.log")).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let fleet = Self {
            dir,
            pg_data,
            database_url,
            front: format!("http://{front}"),
            replicas,
            haproxy,
            pgbouncer,
        };
        let socket = fleet.dir.path().join("haproxy.sock");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "HAProxy did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        fleet.wait_up(&[true; REPLICAS]).await;
        Some(fleet)
    }

    /// A channel to HAProxy (one HTTP/2 connection; HAProxy balances its calls).
    pub async fn channel(&self) -> Channel {
        common::connect_when_up(&self.front).await
    }

    /// A channel straight to replica `i` (0-based), past HAProxy.
    pub async fn replica_channel(&self, i: usize) -> Channel {
        common::connect_when_up(&self.replicas[i].addr).await
    }

    /// A connection to the fleet's database (PostgreSQL itself).
    pub async fn database(&self) -> DatabaseConnection {
        Database::connect(&self.database_url).await.unwrap()
    }

    /// HAProxy's figures for each replica, in order: (status of its checked entry, current
    /// calls, total calls; the calls of its backup entry included).
    pub async fn stats(&self) -> Vec<(String, u64, u64)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut socket = tokio::net::UnixStream::connect(self.dir.path().join("haproxy.sock"))
            .await
            .unwrap();
        socket.write_all(b"show stat\n").await.unwrap();
        let mut csv = String::new();
        socket.read_to_string(&mut csv).await.unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (sv, status, scur, stot) = (
            column("svname"),
            column("status"),
            column("scur"),
            column("stot"),
        );
        let mut out = vec![(String::new(), 0, 0); REPLICAS];
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            let Some(n) = f
                .get(sv)
                .and_then(|name| name.strip_prefix("replica"))
                .and_then(|rest| rest.chars().next()?.to_digit(10))
            else {
                continue;
            };
            let entry = &mut out[n as usize - 1];
            if !f[sv].ends_with("-backup") {
                entry.0 = f[status].to_owned();
            }
            entry.1 += f[scur].parse::<u64>().unwrap();
            entry.2 += f[stot].parse::<u64>().unwrap();
        }
        assert!(
            out.iter().all(|e| !e.0.is_empty()),
            "HAProxy's stats: {csv}"
        );
        out
    }

    /// Waits until HAProxy sees each replica UP (`true`) or not (`false`).
    pub async fn wait_up(&self, up: &[bool; REPLICAS]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stats = self.stats().await;
            if stats
                .iter()
                .zip(up)
                .all(|((status, _, _), &up)| (status == "UP") == up)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HAProxy does not see {up:?}: {stats:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL for replica `i`.
    pub async fn kill(&mut self, i: usize) {
        let mut child = self.replicas[i].child.take().expect("the replica runs");
        child.kill().await.unwrap();
    }

    /// SIGTERM for replica `i`; waits for its exit (within 60 s) and returns its status.
    pub async fn terminate(&mut self, i: usize) -> std::process::ExitStatus {
        let mut child = self.replicas[i].child.take().expect("the replica runs");
        signal(child.id().unwrap(), "TERM").await;
        tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("the replica did not exit within 60 s of SIGTERM")
            .unwrap()
    }

    /// `pg_ctl restart -m fast`: PostgreSQL goes away (its connections are cut) and comes
    /// back with the same options.
    pub async fn restart_postgres(&self) {
        pg_tool(
            "pg_ctl",
            &[
                "-D",
                self.pg_data.to_str().unwrap(),
                "-l",
                self.dir.path().join("postgres.log").to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "restart",
            ],
        )
        .await;
    }

    /// The last lines of every log of the fleet, for a failure's report.
    fn logs(&self) -> String {
        let mut out = String::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.sort();
        for path in names
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
        {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- {} (last 30 lines)\n", path.display()));
            for line in &lines[lines.len().saturating_sub(30)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        for replica in &mut self.replicas {
            if let Some(child) = &mut replica.child {
                let _ = child.start_kill();
            }
        }
        let _ = self.haproxy.start_kill();
        if let Some(pgbouncer) = &mut self.pgbouncer {
            let _ = pgbouncer.start_kill();
        }
        // Synchronously: the runtime may be going away with us.
        let program = pg_bin().join("pg_ctl");
        let mut command = match running_as_root() {
            true => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&program);
                c
            }
            false => std::process::Command::new(&program),
        };
        let _ = command
            .args(["-D", self.pg_data.to_str().unwrap_or_default()])
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

async fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .await
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

fn spawn_replica(run: &Path, n: usize, env: &[(&'static str, String)]) -> Replica {
    let port = common::free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_csp-commerce"));
    command
        .arg("serve")
        .env_remove("CSP_CONFIG")
        .env_remove("CSP_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("CSP_LISTEN", format!("127.0.0.1:{port}"));
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(run.join(format!("replica-{n}.log"))).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");
    Replica {
        addr: format!("http://127.0.0.1:{port}"),
        child: Some(child),
    }
}

/// Waits until replica `n` answers SERVING for the server as a whole.
async fn wait_serving(run: &Path, replica: &mut Replica, n: usize) {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(child) = &mut replica.child
            && let Some(status) = child.try_wait().unwrap()
        {
            let log =
                std::fs::read_to_string(run.join(format!("replica-{n}.log"))).unwrap_or_default();
            panic!("replica {n} exited during start-up ({status}):\n{log}");
        }
        if let Ok(channel) = Channel::from_shared(replica.addr.clone())
            .unwrap()
            .connect()
            .await
            && let Ok(answer) = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
            && answer.into_inner().status == ServingStatus::Serving as i32
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replica {n} did not answer SERVING"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A bearer token of `role` for `user` of `partner` (or none), signed with the fleet's secret.
pub fn bearer(user: &str, partner: Option<&str>, role: Role) -> common::Bearer {
    let token = csp_commerce::auth::TokenKeys::new(TEST_SECRET, None)
        .unwrap()
        .mint(
            user,
            partner.map(common::TestApp::partner_id),
            role,
            chrono::Duration::hours(1),
        )
        .unwrap();
    common::TestApp::raw_bearer(Some(&format!("Bearer {token}")))
}
