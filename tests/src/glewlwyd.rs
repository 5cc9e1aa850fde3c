//! A real OpenID Connect provider for the host sign-in tests: Debian's `glewlwyd`, started
//! on 127.0.0.1 with a database, an RSA signing key and a configuration of its own in a
//! temporary folder, behind a small forwarding proxy of ours (which can alter the ID
//! tokens the token endpoint hands out, to show they are refused). Stopped when dropped.
//!
//! Set up as an operator would: the OIDC plugin with RS256 keys and a `groups` claim from
//! a user property; users `ada` (groups `staff`, `hallway-hosts`) and `bob` (`staff`);
//! a confidential client `hallway`. A person's sign-in is done the way glewlwyd's own
//! login page does it (its login API, the grant of the scopes, then `g_continue`).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The client id Hallway is registered under.
pub const CLIENT_ID: &str = "hallway";
/// Its secret.
pub const CLIENT_SECRET: &str = "hallway-client-secret-1";
/// The group that makes a host.
pub const HOST_GROUP: &str = "hallway-hosts";

/// A person at the provider.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// The login.
    pub username: &'static str,
    /// The password.
    pub password: &'static str,
    /// The display name the provider gives.
    pub name: &'static str,
    /// The `groups` claim.
    pub groups: &'static [&'static str],
}

/// A host: in [`HOST_GROUP`].
pub const ADA: Person = Person {
    username: "ada",
    password: "ada-password-1",
    name: "Ada Lovelace",
    groups: &["staff", HOST_GROUP],
};

/// Not a host.
pub const BOB: Person = Person {
    username: "bob",
    password: "bob-password-1",
    name: "Bob Baumann",
    groups: &["staff"],
};

/// A running glewlwyd behind the proxy.
#[derive(Debug)]
pub struct Glewlwyd {
    child: Child,
    dir: PathBuf,
    /// Where Hallway and the tests reach it (the proxy).
    pub addr: SocketAddr,
    /// While set, the proxy changes each ID token's claims (the signature stays).
    pub tamper: Arc<AtomicBool>,
    /// Every ID token the token endpoint handed out through the proxy (as altered), for
    /// tests that must find them nowhere else.
    id_tokens: Arc<Mutex<Vec<String>>>,
    proxy: tokio::task::JoinHandle<()>,
    http: reqwest::Client,
}

impl Glewlwyd {
    /// Starts one, with the users [`ADA`] and [`BOB`] and no client yet.
    pub async fn start() -> Result<Glewlwyd> {
        let mut last = None;
        for _ in 0..5 {
            match Glewlwyd::try_start().await {
                Ok(provider) => return Ok(provider),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("glewlwyd did not start")))
    }

    /// The issuer Hallway is given.
    pub fn issuer(&self) -> String {
        format!("http://{}/api/oidc", self.addr)
    }

    async fn try_start() -> Result<Glewlwyd> {
        let dir = std::env::temp_dir().join(format!(
            "hallway-glewlwyd-{}",
            crate::process::rand_suffix()
        ));
        std::fs::create_dir_all(&dir)?;
        let proxy_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = proxy_listener.local_addr()?;
        // glewlwyd cannot be given port 0: a free one is picked and released first.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let upstream = SocketAddr::from(([127, 0, 0, 1], port));
        let external = format!("http://{addr}");

        let key = dir.join("key.pem");
        let public = dir.join("public.pem");
        let status = Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048")
            .stderr(Stdio::null())
            .status()
            .context("running openssl (scripts/test installs it)")?;
        if !status.success() {
            bail!("openssl genrsa failed");
        }
        let status = Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public)
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("openssl rsa -pubout failed");
        }

        let db = dir.join("glewlwyd.db");
        prepare_database(
            &db,
            &format!("{external}/api/oidc"),
            &std::fs::read_to_string(&key)?,
            &std::fs::read_to_string(&public)?,
        )?;
        let config = dir.join("glewlwyd.conf");
        std::fs::write(&config, configuration(port, &external, &db))?;

        let child = Command::new("glewlwyd")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting glewlwyd (Debian's package; scripts/test installs it)")?;
        let tamper = Arc::new(AtomicBool::new(false));
        let id_tokens = Arc::new(Mutex::new(Vec::new()));
        let proxy = tokio::spawn(proxy(
            proxy_listener,
            upstream,
            tamper.clone(),
            id_tokens.clone(),
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let mut provider = Glewlwyd {
            child,
            dir,
            addr,
            tamper,
            id_tokens,
            proxy,
            http,
        };
        let until = Instant::now() + Duration::from_secs(20);
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer());
        loop {
            if provider.child.try_wait()?.is_some() {
                bail!("glewlwyd exited (port {port} taken?)");
            }
            if let Ok(response) = provider.http.get(&discovery).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            if Instant::now() > until {
                bail!("glewlwyd did not answer on {upstream}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for person in [ADA, BOB] {
            provider.add_person(person).await?;
        }
        Ok(provider)
    }

    /// The ID tokens handed out so far, oldest first.
    pub fn id_tokens(&self) -> Vec<String> {
        self.id_tokens
            .lock()
            .map(|tokens| tokens.clone())
            .unwrap_or_default()
    }

    fn api(&self, path: &str) -> String {
        format!("http://{}/api{path}", self.addr)
    }

    /// Signs in at glewlwyd's login API; the session cookie.
    async fn session(&self, username: &str, password: &str) -> Result<String> {
        let response = self
            .http
            .post(self.api("/auth/"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("glewlwyd refused {username}: {}", response.status());
        }
        response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("GLEWLWYD2_SESSION_ID="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no session cookie"))
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> Result<()> {
        let cookie = self.session("admin", "password").await?;
        let response = self
            .http
            .request(method, self.api(path))
            .header(reqwest::header::COOKIE, cookie)
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            bail!("glewlwyd {path}: {status} {}", response.text().await?);
        }
        Ok(())
    }

    async fn add_person(&self, person: Person) -> Result<()> {
        self.admin(
            reqwest::Method::POST,
            "/user/",
            serde_json::json!({
                "username": person.username,
                "name": person.name,
                "password": person.password,
                "scope": ["openid", "profile", "g_profile"],
                "groups": person.groups,
                "enabled": true,
            }),
        )
        .await
    }

    /// Registers the client [`CLIENT_ID`] with this redirect URI.
    pub async fn add_client(&self, redirect_uri: &str) -> Result<()> {
        self.admin(
            reqwest::Method::POST,
            "/client/",
            serde_json::json!({
                "client_id": CLIENT_ID,
                "name": "Hallway",
                "confidential": true,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": [redirect_uri],
                "authorization_type": ["code"],
                "token_endpoint_auth_method": ["client_secret_basic"],
                "scope": [],
                "enabled": true,
            }),
        )
        .await
    }

    /// What glewlwyd's login page does with `authorization_url` (where Hallway sent the
    /// browser): signs `person` in, grants the client the scopes, continues. The URL
    /// glewlwyd then sends the browser to (Hallway's callback, with a code or an error).
    pub async fn sign_in(&self, authorization_url: &str, person: Person) -> Result<String> {
        // First visit: glewlwyd sends the browser to its login page.
        let first = self.http.get(authorization_url).send().await?;
        let login = location(&first)?;
        if !login.contains("login.html") {
            bail!("expected glewlwyd's login page, got {login}");
        }
        let session = self.session(person.username, person.password).await?;
        let scope = reqwest::Url::parse(authorization_url)?
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let granted = self
            .http
            .put(self.api(&format!("/auth/grant/{CLIENT_ID}")))
            .header(reqwest::header::COOKIE, &session)
            .json(&serde_json::json!({ "scope": scope }))
            .send()
            .await?;
        if !granted.status().is_success() {
            bail!("granting {scope:?}: {}", granted.status());
        }
        let back = self
            .http
            .get(format!("{authorization_url}&g_continue"))
            .header(reqwest::header::COOKIE, &session)
            .send()
            .await?;
        location(&back)
    }
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> Result<String> {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no redirect ({})", response.status()))
}

impl Drop for Glewlwyd {
    fn drop(&mut self) {
        self.proxy.abort();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The package's own schema, then what an operator sets up in the admin UI: the user
/// database with a `groups` property, the OIDC plugin, a `profile` scope.
fn prepare_database(db: &std::path::Path, issuer: &str, key: &str, public: &str) -> Result<()> {
    const SCHEMA: &str = "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3";
    let schema = std::fs::read_to_string(SCHEMA)
        .with_context(|| format!("reading {SCHEMA} (from Debian's glewlwyd package)"))?;
    let conn = rusqlite::Connection::open(db)?;
    conn.execute_batch(&schema)?;
    let parameters: String = conn.query_row(
        "SELECT gumi_parameters FROM g_user_module_instance WHERE gumi_name = 'database'",
        [],
        |row| row.get(0),
    )?;
    let mut parameters: serde_json::Value = serde_json::from_str(&parameters)?;
    parameters["data-format"]["groups"] = serde_json::json!({
        "multiple": true, "read": true, "write": true, "profile-read": true, "profile-write": false
    });
    conn.execute(
        "UPDATE g_user_module_instance SET gumi_parameters = ?1 WHERE gumi_name = 'database'",
        [parameters.to_string()],
    )?;
    let plugin = serde_json::json!({
        "iss": issuer,
        "jwt-type": "rsa",
        "jwt-key-size": "256",
        "key": key,
        "cert": public,
        "access-token-duration": 3600,
        "refresh-token-duration": 3600,
        "code-duration": 600,
        "refresh-token-rolling": false,
        "allow-non-oidc": false,
        "auth-type-code-enabled": true,
        "auth-type-token-enabled": false,
        "auth-type-none-enabled": false,
        "auth-type-password-enabled": false,
        "auth-type-client-enabled": false,
        "auth-type-refresh-enabled": false,
        "scope": [],
        "name-claim": "mandatory",
        "email-claim": "no",
        "allowed-scope": ["openid", "profile"],
        "claims": [{
            "name": "groups", "user-property": "groups", "type": "string",
            "mandatory": true, "on-demand": false, "scopes": []
        }],
        "pkce-allowed": true,
        "pkce-method-plain-allowed": false,
        "jwks-show": true,
        "subject-type": "public",
    });
    conn.execute(
        "INSERT INTO g_plugin_module_instance (gpmi_module, gpmi_name, gpmi_display_name, gpmi_parameters) \
         VALUES ('oidc', 'oidc', 'OpenID Connect', ?1)",
        [plugin.to_string()],
    )?;
    conn.execute(
        "INSERT INTO g_scope (gs_name, gs_display_name, gs_description, gs_password_required, gs_password_max_age) \
         VALUES ('profile', 'Profile', 'Your name', 0, 0)",
        [],
    )?;
    Ok(())
}

fn configuration(port: u16, external: &str, db: &std::path::Path) -> String {
    format!(
        "port={port}\n\
         bind_address=\"127.0.0.1\"\n\
         external_url=\"{external}\"\n\
         login_url=\"login.html\"\n\
         api_prefix=\"api\"\n\
         allow_origin=\"*\"\n\
         log_mode=\"console\"\n\
         log_level=\"ERROR\"\n\
         cookie_secure=0\n\
         session_expiration=3600\n\
         session_key=\"GLEWLWYD2_SESSION_ID\"\n\
         admin_scope=\"g_admin\"\n\
         profile_scope=\"g_profile\"\n\
         admin_session_authentication=\"cookie\"\n\
         profile_session_authentication=\"cookie\"\n\
         user_module_path=\"/usr/lib/glewlwyd/user\"\n\
         client_module_path=\"/usr/lib/glewlwyd/client\"\n\
         user_auth_scheme_module_path=\"/usr/lib/glewlwyd/scheme\"\n\
         plugin_module_path=\"/usr/lib/glewlwyd/plugin\"\n\
         use_secure_connection=0\n\
         hash_algorithm=\"SHA512\"\n\
         database = {{\n  type = \"sqlite3\"\n  path = \"{}\"\n}}\n",
        db.display()
    )
}

/// The provider's login page (glewlwyd's `login_url`): Debian's package ships its web
/// application without a working `config.json`, so the page is this small one, which
/// does what glewlwyd's own does: signs in through the login API, grants the client the
/// scopes asked for, and continues the authorization (`g_continue`).
const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in – test provider</title></head>
<body><main><h1>Sign in</h1>
<form id="login">
<p><label>User name <input id="username" autocomplete="username" required></label></p>
<p><label>Password <input id="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
<p id="problem" role="alert"></p>
</form></main>
<script>
const query = new URLSearchParams(location.search);
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const json = { "Content-Type": "application/json" };
  const username = document.getElementById("username").value;
  const password = document.getElementById("password").value;
  const login = await fetch("/api/auth/", { method: "POST", headers: json, body: JSON.stringify({ username, password }) });
  if (!login.ok) { document.getElementById("problem").textContent = "Wrong user name or password."; return; }
  const client = query.get("client_id");
  await fetch(`/api/auth/grant/${encodeURIComponent(client)}`, { method: "PUT", headers: json, body: JSON.stringify({ scope: query.get("scope") }) });
  location.href = `${query.get("callback_url")}&g_continue`;
});
</script></body></html>
"#;

/// Forwards each connection's one request to glewlwyd (`Connection: close` both ways);
/// while `tamper` is set, the token endpoint's ID token gets `groups` with the host
/// group and another name, its signature kept. The ID tokens handed out go to `id_tokens`.
async fn proxy(
    listener: tokio::net::TcpListener,
    upstream: SocketAddr,
    tamper: Arc<AtomicBool>,
    id_tokens: Arc<Mutex<Vec<String>>>,
) {
    while let Ok((inbound, _)) = listener.accept().await {
        let tamper = tamper.load(Ordering::SeqCst);
        let id_tokens = id_tokens.clone();
        tokio::spawn(async move {
            let _ = forward(inbound, upstream, tamper, &id_tokens).await;
        });
    }
}

/// Reads one HTTP/1.1 message (head and a `Content-Length` body) from `stream`.
async fn read_message(stream: &mut TcpStream, until_close: bool) -> Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("closed before the head ended");
        }
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    let mut body = data[head_end..].to_vec();
    match length {
        Some(length) => {
            while body.len() < length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None if until_close => {
            stream.read_to_end(&mut body).await?;
        }
        None => {}
    }
    Ok((head, body))
}

/// The head with `Connection: close` instead of any `Connection` or `Content-Length`
/// header, and the body's length.
fn closing_head(head: &str, body_len: usize) -> String {
    let mut out = String::new();
    for line in head.trim_end().lines() {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if name == "connection" || name == "content-length" || name == "keep-alive" {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {body_len}\r\nConnection: close\r\n\r\n"
    ));
    out
}

async fn forward(
    mut inbound: TcpStream,
    upstream: SocketAddr,
    tamper: bool,
    id_tokens: &Mutex<Vec<String>>,
) -> Result<()> {
    let (head, body) = read_message(&mut inbound, false).await?;
    if head
        .split_whitespace()
        .nth(1)
        .is_some_and(|path| path.starts_with("/login.html"))
    {
        let page = LOGIN_PAGE.as_bytes();
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n";
        inbound
            .write_all(closing_head(head, page.len()).as_bytes())
            .await?;
        inbound.write_all(page).await?;
        inbound.shutdown().await?;
        return Ok(());
    }
    let token_request = head
        .split_whitespace()
        .nth(1)
        .is_some_and(|path| path.starts_with("/api/oidc/token"));
    let mut out = TcpStream::connect(upstream).await?;
    out.write_all(closing_head(&head, body.len()).as_bytes())
        .await?;
    out.write_all(&body).await?;
    let (head, mut body) = read_message(&mut out, true).await?;
    if tamper && token_request {
        body = tampered(&body).unwrap_or(body);
    }
    if token_request {
        let id_token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|answer| Some(answer.get("id_token")?.as_str()?.to_owned()));
        if let (Some(id_token), Ok(mut list)) = (id_token, id_tokens.lock()) {
            list.push(id_token);
        }
    }
    inbound
        .write_all(closing_head(&head, body.len()).as_bytes())
        .await?;
    inbound.write_all(&body).await?;
    inbound.shutdown().await?;
    Ok(())
}

/// The token answer with its ID token's payload changed: the host group added, another
/// name. Header and signature are the provider's.
fn tampered(body: &[u8]) -> Option<Vec<u8>> {
    let mut answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = answer.get("id_token")?.as_str()?.to_owned();
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["groups"] = serde_json::json!(["staff", HOST_GROUP]);
    claims["name"] = serde_json::json!("Mallory Host");
    let forged = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    answer["id_token"] = serde_json::Value::String(forged);
    Some(answer.to_string().into_bytes())
}
