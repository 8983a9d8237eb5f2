//! `CONNECT` to any host that is not terminated: a byte-for-byte tunnel the broker never
//! looks into (the DXLink streamer, package indexes, anything), opened directly or through
//! the user's own proxy when they had one and the host is not in their NO_PROXY.

use base64::Engine;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long opening the far end may take (DNS, TCP, the user's proxy answering).
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(20);
/// The most the user's proxy may send in answer to our CONNECT before its blank line.
const MAX_PROXY_ANSWER: usize = 16 * 1024;

/// Where tunnels and forwarded requests go out: directly, or through the user's proxy.
pub struct Route {
    pub proxy: Option<url::Url>,
    pub no_proxy: Vec<String>,
}

impl Route {
    /// The user's proxy for `host`, unless NO_PROXY exempts it (`*`, the host itself, or a
    /// domain suffix written with or without a leading dot, as curl and Python read it).
    pub fn proxy_for(&self, host: &str) -> Option<&url::Url> {
        let proxy = self.proxy.as_ref()?;
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let exempt = self.no_proxy.iter().any(|entry| {
            let entry = entry
                .trim()
                .trim_start_matches("*.")
                .trim_start_matches('.');
            let entry = entry.trim_end_matches('.').to_ascii_lowercase();
            entry == "*"
                || (!entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}"))))
        });
        (!exempt).then_some(proxy)
    }

    /// A TCP stream to `host:port`, ready for the client's bytes.
    pub async fn open(&self, host: &str, port: u16) -> io::Result<TcpStream> {
        let opening = async {
            match self.proxy_for(host) {
                None => TcpStream::connect((host, port)).await,
                Some(proxy) => through_proxy(proxy, host, port).await,
            }
        };
        tokio::time::timeout(CONNECT_DEADLINE, opening)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "timed out"))?
    }
}

/// Asks the user's HTTP proxy for a tunnel to `host:port`.
async fn through_proxy(proxy: &url::Url, host: &str, port: u16) -> io::Result<TcpStream> {
    if proxy.scheme() != "http" {
        return Err(io::Error::other(format!(
            "tunnels go only through an http:// proxy, not {}://",
            proxy.scheme()
        )));
    }
    let proxy_host = proxy
        .host_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the proxy URL has no host"))?;
    let proxy_port = proxy.port_or_known_default().unwrap_or(8080);
    let mut stream = TcpStream::connect((proxy_host.trim_matches(['[', ']']), proxy_port)).await?;
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if !proxy.username().is_empty() {
        let user = percent_decode(proxy.username());
        let pass = percent_decode(proxy.password().unwrap_or(""));
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        request.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    // Read the answer byte by byte up to its blank line, so nothing of the tunnel's own
    // bytes is consumed here.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_PROXY_ANSWER {
            return Err(io::Error::other("the proxy's answer is too long"));
        }
        let byte = stream.read_u8().await?;
        answer.push(byte);
    }
    let status = answer
        .split(|&b| b == b' ')
        .nth(1)
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or("");
    if !status.starts_with('2') {
        return Err(io::Error::other(format!(
            "the proxy {proxy_host}:{proxy_port} refused the tunnel ({status})"
        )));
    }
    Ok(stream)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Copies both ways until either side closes.
pub async fn splice<A>(mut client: A, mut server: TcpStream)
where
    A: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(no_proxy: &[&str]) -> Route {
        Route {
            proxy: Some(url::Url::parse("http://proxy.example:3128").unwrap()),
            no_proxy: no_proxy.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn no_proxy_exempts_hosts_and_domains() {
        let r = route(&["localhost", ".internal.example", "pypi.org"]);
        assert!(r.proxy_for("localhost").is_none());
        assert!(r.proxy_for("a.internal.example").is_none());
        assert!(r.proxy_for("internal.example").is_none());
        assert!(r.proxy_for("PyPI.org.").is_none());
        assert!(r.proxy_for("files.pypi.org").is_none());
        assert!(r.proxy_for("tasty.works").is_some());
        assert!(r.proxy_for("notpypi.org").is_some());
        assert!(route(&["*"]).proxy_for("anything").is_none());
        let direct = Route {
            proxy: None,
            no_proxy: vec![],
        };
        assert!(direct.proxy_for("anything").is_none());
    }

    #[test]
    fn proxy_credentials_are_decoded() {
        assert_eq!(percent_decode("a%40b+c"), "a@b+c");
    }
}
