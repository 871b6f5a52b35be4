//! One server per SQLite file: a second server (or `migrate`) on a file a server holds
//! refuses to start and names the holder's pid; the kernel drops the lock with the holder, so
//! after a SIGKILL a new server starts at once. Through the real binary.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, TEST_SECRET};

/// The server binary on `url`, with `env` besides the test's settings.
fn command(url: &str, port: u16, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_csp-commerce"));
    command
        .env("CSP_LISTEN", format!("127.0.0.1:{port}"))
        .env("CSP_DATABASE_URL", url)
        .env("CSP_JWT_SECRET", TEST_SECRET)
        .env("CSP_LOG", "warn")
        .envs(env.iter().copied());
    command
}

/// A server on `url`, once it answers its health check.
async fn serve(url: &str, env: &[(&str, &str)]) -> Child {
    let port = common::free_port();
    let mut child = command(url, port, env)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server binary");
    let channel = common::connect_when_up(&format!("http://127.0.0.1:{port}")).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let deadline = Instant::now() + Duration::from_secs(60);
    while health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "csp.commerce.v1.CartService".into(),
        })
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server did not come up");
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

/// Runs the binary with `args` on `url` to its end (60 s at most).
fn run(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = command(url, common::free_port(), env)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("`csp-commerce {}` did not end", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Asserts that `out` is a refusal naming `holder` as the process that holds the file.
fn refused_naming(out: &Output, holder: u32, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what} started: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(&format!("in use by process {holder}")))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one line naming pid {holder}: {stderr}"
    );
    assert!(lines[0].contains("one server per SQLite file"), "{stderr}");
}

#[tokio::test]
async fn a_second_server_on_a_held_file_refuses_until_the_holder_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("one.sqlite").display());
    let mut first = serve(&url, &[]).await;

    let second = run(&url, &["serve"], &[]);
    refused_naming(&second, first.id(), "a second server");
    let migrate = run(&url, &["migrate"], &[]);
    refused_naming(&migrate, first.id(), "migrate");

    // SIGKILL: no shutdown, no clean-up; the kernel drops the lock with the process.
    first.kill().unwrap();
    first.wait().unwrap();
    let started = Instant::now();
    let mut next = serve(&url, &[("CSP_SQLITE_SYNCHRONOUS", "normal")]).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the new server waited for the lock"
    );
    // It holds the file in turn.
    refused_naming(&run(&url, &["migrate"], &[]), next.id(), "migrate");
    next.kill().unwrap();
    next.wait().unwrap();
}

#[test]
fn sqlite_synchronous_takes_full_or_normal_only() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.sqlite").display());
    for setting in ["full", "normal"] {
        let out = run(&url, &["migrate"], &[("CSP_SQLITE_SYNCHRONOUS", setting)]);
        assert!(out.status.success(), "{setting}: {out:?}");
    }
    let out = run(&url, &["migrate"], &[("CSP_SQLITE_SYNCHRONOUS", "off")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let stderr = stderr.to_lowercase();
    assert!(
        stderr.contains("sqlite_synchronous") && stderr.contains("`full` or `normal`"),
        "{stderr}"
    );
}
