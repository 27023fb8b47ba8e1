//! A temporary HOME plus a fake server, and a `cometapi` command wired to both.

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;

use assert_cmd::Command;
use tempfile::TempDir;

use crate::fake_server::{FakeServer, ACCESS_TOKEN, API_KEY};

pub struct Sandbox {
    pub home: TempDir,
    pub server: FakeServer,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            home: tempfile::tempdir().expect("temp HOME"),
            server: FakeServer::start(),
        }
    }

    /// `cometapi` with a clean environment: only PATH, HOME and the fake server's base URL.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cometapi"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("COMETAPI_BASE_URL", self.server.base_url());
        cmd
    }

    /// [`Sandbox::cmd`] with the valid API key in the environment.
    pub fn cmd_with_key(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.env("COMETAPI_KEY", API_KEY);
        cmd
    }

    /// [`Sandbox::cmd`] with the valid console access token in the environment.
    pub fn cmd_with_token(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.env("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN);
        cmd
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.path().join(".config/cometapi/config.toml")
    }

    pub fn cache_path(&self) -> PathBuf {
        self.home.path().join(".cache/cometapi/models.json")
    }

    pub fn write_config(&self, text: &str) {
        let path = self.config_path();
        fs::create_dir_all(path.parent().expect("parent")).expect("config dir");
        fs::write(&path, text).expect("write config");
    }

    #[cfg(unix)]
    pub fn chmod_config(&self, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(self.config_path(), fs::Permissions::from_mode(mode)).expect("chmod");
    }

    pub fn read_config(&self) -> String {
        fs::read_to_string(self.config_path()).expect("read config")
    }
}

/// A loopback URL where nothing listens: the port was bound, then released.
pub fn dead_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/v1")
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
