//! A Garage cluster (a distributed, S3-compatible store) on loopback, started by a test: the
//! real object storage sync runs against. `scripts/setup` installs Garage; without it the tests
//! that need it say they are skipped, unless `ARCA_REQUIRE_GARAGE` is set (as `scripts/test`
//! does), when they fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arca_safe::{S3Settings, Secret, TargetSettings};

pub struct Cluster {
    _dir: tempfile::TempDir,
    nodes: Vec<Child>,
    endpoint: String,
    key_id: String,
    secret: String,
}

fn binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("ARCA_GARAGE") {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var("HOME").ok()?;
    let cached = Path::new(&home).join(".cache/arca-tools/garage/bin/garage");
    cached.exists().then_some(cached)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// Starts `nodes` Garage servers joined into one cluster with one bucket and one key.
    pub fn start_or_skip(nodes: usize) -> Option<Self> {
        let Some(garage) = binary() else {
            assert!(
                std::env::var("ARCA_REQUIRE_GARAGE").is_err(),
                "Garage is required (ARCA_REQUIRE_GARAGE) but not installed: run scripts/setup"
            );
            eprintln!("skipped: Garage is not installed (scripts/setup installs it)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        // 32 bytes of hex, as Garage wants its RPC secret.
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut configs = Vec::new();
        let mut children = Vec::new();
        let mut endpoint = String::new();
        for index in 0..nodes {
            let (rpc, s3) = (free_port(), free_port());
            let config = dir.path().join(format!("node{index}.toml"));
            std::fs::write(
                &config,
                format!(
                    "metadata_dir = \"{root}/meta{index}\"\n\
                     data_dir = \"{root}/data{index}\"\n\
                     db_engine = \"sqlite\"\n\
                     replication_factor = {nodes}\n\
                     rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
                     rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
                     rpc_secret = \"{secret}\"\n\
                     [s3_api]\n\
                     s3_region = \"garage\"\n\
                     api_bind_addr = \"127.0.0.1:{s3}\"\n",
                    root = dir.path().display()
                ),
            )
            .unwrap();
            if index == 0 {
                endpoint = format!("http://127.0.0.1:{s3}");
            }
            children.push(
                Command::new(&garage)
                    .arg("-c")
                    .arg(&config)
                    .arg("server")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            configs.push(config);
        }
        let mut cluster = Self {
            _dir: dir,
            nodes: children,
            endpoint,
            key_id: String::new(),
            secret: String::new(),
        };
        let run = |config: &Path, args: &[&str]| -> String {
            let started = Instant::now();
            loop {
                let output = Command::new(&garage)
                    .arg("-c")
                    .arg(config)
                    .args(args)
                    .output()
                    .unwrap();
                if output.status.success() {
                    return String::from_utf8_lossy(&output.stdout).into_owned();
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "garage {args:?}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        };
        let mut ids = Vec::new();
        for config in &configs {
            let id = run(config, &["node", "id", "-q"]);
            ids.push(id.trim().to_owned());
        }
        for id in &ids[1..] {
            run(&configs[0], &["node", "connect", id]);
        }
        for id in &ids {
            let short = &id[..16];
            run(
                &configs[0],
                &["layout", "assign", "-z", "dc1", "-c", "1G", short],
            );
        }
        run(&configs[0], &["layout", "apply", "--version", "1"]);
        run(&configs[0], &["bucket", "create", "arca"]);
        let key = run(&configs[0], &["key", "create", "arca-test"]);
        let field = |name: &str| {
            key.lines()
                .find_map(|line| {
                    line.trim()
                        .strip_prefix(name)
                        .map(|rest| rest.trim_start_matches(':').trim().to_owned())
                })
                .unwrap_or_else(|| panic!("no {name} in: {key}"))
        };
        cluster.key_id = field("Key ID");
        cluster.secret = field("Secret key");
        run(
            &configs[0],
            &[
                "bucket",
                "allow",
                "--read",
                "--write",
                "--owner",
                "arca",
                "--key",
                "arca-test",
            ],
        );
        Some(cluster)
    }

    /// Settings for a folder `prefix` of the cluster's bucket.
    pub fn settings(&self, prefix: &str) -> TargetSettings {
        TargetSettings::S3(S3Settings {
            endpoint: self.endpoint.clone(),
            region: "garage".to_owned(),
            bucket: "arca".to_owned(),
            prefix: prefix.to_owned(),
            access_key_id: self.key_id.clone(),
            secret_access_key: Secret::new(self.secret.clone()),
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
    }
}
