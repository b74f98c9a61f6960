//! Starting and driving a real `tandem` process for the tests: free ports, a temp data
//! folder, JSON calls, and a clean stop (SIGTERM, then wait).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use serde_json::Value;

/// How long a node may take to answer its first request.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A UDP port free now on 127.0.0.1 (the transport is QUIC).
pub(crate) fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral udp port");
    socket.local_addr().expect("local addr").port()
}

pub(crate) struct TestNode {
    child: Child,
    url: String,
    client: Client,
    /// The transport (QUIC) port the node was told to bind.
    #[allow(dead_code)]
    pub(crate) transport_port: u16,
}

impl TestNode {
    pub(crate) fn start(data: &Path, extra: &[&str]) -> TestNode {
        let port = free_port();
        let transport_port = extra
            .iter()
            .rev()
            .find_map(|setting| setting.strip_prefix("transport.port="))
            .map_or_else(free_udp_port, |port| port.parse().expect("transport port"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
        command
            .arg("-E")
            .arg(format!("path.data={}", data.display()))
            .arg("-E")
            .arg(format!("http.port={port}"))
            .arg("-E")
            .arg(format!("transport.port={transport_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for setting in extra {
            command.arg("-E").arg(setting);
        }
        let child = command.spawn().expect("start tandem");
        let node = TestNode {
            child,
            url: format!("http://127.0.0.1:{port}"),
            transport_port,
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if node.client.get(&node.url).send().is_ok() {
                return node;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("tandem did not answer on {} in time", node.url);
    }

    /// The HTTP base URL.
    #[allow(dead_code)]
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().expect("request sent"))
    }

    pub(crate) fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("request sent");
        read(response)
    }

    /// Sends `signal` (`STOP`, `CONT`, ...) to the process.
    #[allow(dead_code)]
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Stops the node with SIGTERM (a clean shutdown) and waits for it.
    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

pub(crate) fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    (dir, data)
}
