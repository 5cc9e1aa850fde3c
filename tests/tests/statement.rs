//! The accessibility statement at `/accessibility` and its feedback form, through the real
//! server: what it says without settings and with them, in German and English; feedback
//! kept for the admin API (in SQLite and, in a cluster, in a real Redis) or mailed through
//! a real SMTP server (aiosmtpd), refused with its reason and the text kept, rate-limited.

use anyhow::Result;
use hallway::statement::{Conformance, ReviewDate};
use hallway_tests::TestServer;
use hallway_tests::http::{Response, exchange};
use hallway_tests::redis::RedisServer;
use hallway_tests::smtp::SmtpServer;
use serde_json::Value;

const KEY: &str = "an-admin-key-for-the-tests-0123456789";

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Result<Response> {
    exchange(server.addr(), "GET", path, headers, b"").await
}

/// Percent-encodes a form field (`application/x-www-form-urlencoded`).
fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Sends the form as a browser on the page itself would.
async fn send(server: &TestServer, message: &str, contact: &str, lang: &str) -> Result<Response> {
    send_with(server, message, contact, lang, &[]).await
}

async fn send_with(
    server: &TestServer,
    message: &str,
    contact: &str,
    lang: &str,
    extra: &[(&str, &str)],
) -> Result<Response> {
    let body = format!(
        "lang={lang}&message={}&contact={}",
        encode(message),
        encode(contact)
    );
    let origin = format!("http://{}", server.addr());
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", origin.as_str()),
    ];
    headers.extend_from_slice(extra);
    exchange(
        server.addr(),
        "POST",
        "/accessibility/feedback",
        &headers,
        body.as_bytes(),
    )
    .await
}

async fn kept(server: &TestServer) -> Result<Vec<Value>> {
    let auth = format!("Bearer {KEY}");
    let response = get(server, "/api/feedback", &[("Authorization", &auth)]).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(response.json()?["feedback"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

#[tokio::test]
async fn without_settings_the_statement_is_sensible_and_every_page_links_to_it() -> Result<()> {
    let server = TestServer::start().await?;
    let page = get(&server, "/accessibility", &[]).await?;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.header("content-security-policy").is_some_and(|csp| {
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'")
    }));
    let text = page.text();
    for expected in [
        "<html lang=\"de\">",
        "<h1 id=\"statement-heading\">Erklärung zur Barrierefreiheit</h1>",
        "noch keine eigenen Angaben",
        "teilweise vereinbar",
        "Live-Untertitel",
        "kein Datum der letzten Überprüfung",
        "action=\"/accessibility/feedback\"",
        "<label for=\"message\">Ihre Nachricht</label>",
        "spätestens nach 90 Tagen gelöscht",
        "https://www.schlichtungsstelle-bgg.de/",
        "href=\"/accessibility?lang=en\"",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    // English by the browser's wish, or by choice; the choice wins.
    let english = get(
        &server,
        "/accessibility",
        &[("Accept-Language", "en-GB,en;q=0.9")],
    )
    .await?;
    assert!(
        english
            .text()
            .contains("<h1 id=\"statement-heading\">Accessibility statement</h1>")
    );
    assert!(english.text().contains("partially complies"));
    let chosen = get(
        &server,
        "/accessibility?lang=de",
        &[("Accept-Language", "en")],
    )
    .await?;
    assert!(chosen.text().contains("<html lang=\"de\">"));
    // Linked from every page: start, help, a room (join screen and room), a room that is
    // not there.
    for path in ["/", "/help", "/r/lobby", "/r/no-such-room"] {
        let page = get(&server, path, &[]).await?;
        assert!(
            page.text().contains("href=\"/accessibility"),
            "{path} does not link to the statement"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_operators_settings_fill_the_statement_and_are_escaped() -> Result<()> {
    let server = TestServer::start_with(|c| {
        c.statement.statement_body = Some("Stadt <b>Bamberg</b> & Partner".into());
        c.statement.statement_contact = Some("barrierefreiheit@stadt.example".into());
        c.statement.statement_reviewed = ReviewDate::parse("2026-11-30").ok();
        c.statement.statement_status = Conformance::None;
        c.statement.statement_limitation =
            vec!["Die Aufzeichnungen haben keine Untertitel.".into()];
        c.statement.statement_enforcement_url = "https://www.example.org/schlichtung".into();
        c.statement.statement_enforcement_name =
            Some("Landesbeauftragte für Barrierefreiheit".into());
    })
    .await?;
    let german = get(&server, "/accessibility", &[]).await?.text();
    for expected in [
        "Stadt &lt;b&gt;Bamberg&lt;/b&gt; &amp; Partner ist bemüht",
        "<a href=\"mailto:barrierefreiheit@stadt.example\">barrierefreiheit@stadt.example</a>",
        "am <time datetime=\"2026-11-30\">30. November 2026</time> zuletzt überprüft",
        "nicht vereinbar",
        "<li>Die Aufzeichnungen haben keine Untertitel.</li>",
        "<a href=\"https://www.example.org/schlichtung\">Landesbeauftragte für Barrierefreiheit</a>",
    ] {
        assert!(
            german.contains(expected),
            "{expected:?} missing from\n{german}"
        );
    }
    assert!(!german.contains("<b>Bamberg"));
    assert!(!german.contains("schlichtungsstelle-bgg"));
    let english = get(&server, "/accessibility?lang=en", &[]).await?.text();
    assert!(
        english.contains("last reviewed on <time datetime=\"2026-11-30\">30 November 2026</time>")
    );
    assert!(english.contains("does not comply"));
    Ok(())
}

#[tokio::test]
async fn feedback_is_kept_for_the_admin_api_and_bad_feedback_is_refused_with_its_text_kept()
-> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let sent = send(
        &server,
        "Die Schaltfläche „Kamera“ ist mit dem Screenreader nicht zu finden.\r\nNVDA, Firefox.",
        "anna.roth@stadt.example",
        "de",
    )
    .await?;
    assert_eq!(sent.status, 303, "{}", sent.text());
    assert_eq!(
        sent.header("location"),
        Some("/accessibility?lang=de&sent=1#feedback-sent")
    );
    let thanks = get(&server, "/accessibility?lang=de&sent=1", &[])
        .await?
        .text();
    assert!(
        thanks.contains(
            "role=\"status\" tabindex=\"-1\">Vielen Dank. Ihre Rückmeldung ist angekommen."
        )
    );
    assert!(thanks.contains(
        "<title>Rückmeldung gesendet – Erklärung zur Barrierefreiheit – Hallway</title>"
    ));

    let list = kept(&server).await?;
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["message"],
        "Die Schaltfläche „Kamera“ ist mit dem Screenreader nicht zu finden.\nNVDA, Firefox."
    );
    assert_eq!(list[0]["contact"], "anna.roth@stadt.example");
    assert_eq!(list[0]["lang"], "de");
    assert!(
        list[0]["received"]
            .as_u64()
            .is_some_and(|t| t > 1_700_000_000)
    );

    // Refusals: the reason at its field, the text still there, nothing kept.
    let empty = send(&server, "   ", "", "en").await?;
    assert_eq!(empty.status, 400);
    assert!(
        empty
            .text()
            .contains("<p id=\"message-error\" class=\"error\">Please write a message.</p>")
    );
    assert!(empty.text().contains(
        "aria-describedby=\"message-hint message-error\" aria-invalid=\"true\" autofocus"
    ));
    let long = "ä".repeat(4001);
    let too_long = send(&server, &long, "", "de").await?;
    assert_eq!(too_long.status, 400);
    assert!(too_long.text().contains("zu lang"));
    assert!(too_long.text().contains(&long), "the text is kept");
    let bad_contact = send(&server, "Kontrast zu schwach", "a\u{1}b", "de").await?;
    assert_eq!(bad_contact.status, 400);
    assert!(bad_contact.text().contains("id=\"contact-error\""));
    assert!(
        bad_contact
            .text()
            .contains(">Kontrast zu schwach</textarea>")
    );
    let huge = exchange(
        server.addr(),
        "POST",
        "/accessibility/feedback",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("lang=de&message={}", "x".repeat(70 * 1024)).as_bytes(),
    )
    .await?;
    assert_eq!(huge.status, 413);
    // From another site's page: refused, though the text is fine.
    let other_site = exchange(
        server.addr(),
        "POST",
        "/accessibility/feedback",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://evil.example"),
        ],
        b"lang=en&message=spam",
    )
    .await?;
    assert_eq!(other_site.status, 403);
    assert!(other_site.text().contains("another website"));
    assert!(other_site.text().contains(">spam</textarea>"));
    assert_eq!(kept(&server).await?.len(), 1, "nothing refused was kept");

    // Five a quarter of an hour from one address; a forged X-Forwarded-For (no trusted
    // proxy) does not make another.
    for i in 1..5 {
        assert_eq!(
            send(&server, &format!("Nachricht {i}"), "", "de")
                .await?
                .status,
            303
        );
    }
    let sixth = send_with(
        &server,
        "Nachricht 5",
        "",
        "de",
        &[("X-Forwarded-For", "203.0.113.9")],
    )
    .await?;
    assert_eq!(sixth.status, 429);
    assert!(sixth.text().contains("in zehn Minuten"));
    assert!(sixth.text().contains(">Nachricht 5</textarea>"));
    assert_eq!(kept(&server).await?.len(), 5);

    // The operator deletes what was handled.
    let auth = format!("Bearer {KEY}");
    let id = kept(&server).await?[0]["id"].as_u64().unwrap_or_default();
    let path = format!("/api/feedback/{id}");
    let gone = exchange(
        server.addr(),
        "DELETE",
        &path,
        &[("Authorization", &auth)],
        b"",
    )
    .await?;
    assert_eq!(gone.status, 204);
    let again = exchange(
        server.addr(),
        "DELETE",
        &path,
        &[("Authorization", &auth)],
        b"",
    )
    .await?;
    assert_eq!(again.status, 404);
    let bad = exchange(
        server.addr(),
        "DELETE",
        "/api/feedback/x",
        &[("Authorization", &auth)],
        b"",
    )
    .await?;
    assert_eq!(bad.status, 400);
    assert_eq!(get(&server, "/api/feedback", &[]).await?.status, 401);
    assert_eq!(kept(&server).await?.len(), 4);
    Ok(())
}

#[tokio::test]
async fn feedback_is_mailed_when_the_operator_chose_mail_and_kept_when_mail_fails() -> Result<()> {
    let smtp = SmtpServer::start()?;
    let url = smtp.url();
    let server = TestServer::start_with(|c| {
        c.admin_key = Some(KEY.into());
        c.feedback.feedback_email = "Barrierefreiheit <barrierefreiheit@stadt.example>"
            .parse()
            .ok();
        c.feedback.smtp_url = Some(url);
    })
    .await?;
    let page = get(&server, "/accessibility?lang=en", &[]).await?.text();
    assert!(page.contains("sent to the operator by e-mail"));
    let sent = send(
        &server,
        "The chat is hard to read at 200% zoom.",
        "ben@agency.example",
        "en",
    )
    .await?;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let mails = smtp.messages()?;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.contains("To: Barrierefreiheit <barrierefreiheit@stadt.example>"),
        "{mail}"
    );
    assert!(mail.contains("Reply-To: ben@agency.example"), "{mail}");
    assert!(
        mail.contains("The chat is hard to read at 200% zoom."),
        "{mail}"
    );
    assert!(kept(&server).await?.is_empty(), "mailed, not kept");

    // The mail server is gone: the message is kept instead, and the person is thanked.
    drop(smtp);
    let sent = send(&server, "Untertitel fehlen.", "", "de").await?;
    assert_eq!(sent.status, 303);
    let list = kept(&server).await?;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["message"], "Untertitel fehlen.");
    Ok(())
}

#[tokio::test]
async fn in_a_cluster_feedback_sent_to_one_node_is_read_on_another() -> Result<()> {
    let redis = RedisServer::start()?;
    let a = TestServer::start_with(|c| {
        c.admin_key = Some(KEY.into());
        c.redis_url = Some(redis.url());
    })
    .await?;
    let b = TestServer::start_with(|c| {
        c.admin_key = Some(KEY.into());
        c.redis_url = Some(redis.url());
    })
    .await?;
    assert_eq!(
        send(&a, "Zu wenig Kontrast im Raumplan.", "", "de")
            .await?
            .status,
        303
    );
    let list = kept(&b).await?;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["message"], "Zu wenig Kontrast im Raumplan.");
    let auth = format!("Bearer {KEY}");
    let path = format!("/api/feedback/{}", list[0]["id"]);
    assert_eq!(
        exchange(b.addr(), "DELETE", &path, &[("Authorization", &auth)], b"")
            .await?
            .status,
        204
    );
    assert!(kept(&a).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_form_checks_its_own_site_whatever_the_websocket_allows_and_says_when_all_are_busy()
-> Result<()> {
    let server = TestServer::start_with(|c| {
        c.admin_key = Some(KEY.into());
        c.allowed_origins = vec!["*".into()];
        // A reverse proxy on loopback names the client, so that a hundred addresses can
        // be had.
        c.trusted_proxies = vec![[127, 0, 0, 1].into()];
    })
    .await?;
    let other_site = exchange(
        server.addr(),
        "POST",
        "/accessibility/feedback",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://evil.example"),
        ],
        b"lang=de&message=spam",
    )
    .await?;
    assert_eq!(
        other_site.status, 403,
        "`*` for the WebSocket is not `*` for the form"
    );
    for i in 0..hallway::feedback::PER_NODE {
        let from = format!("198.51.100.{}", i % 250 + 1);
        let from = if i < 250 {
            from
        } else {
            format!("203.0.113.{}", i - 249)
        };
        let sent = send_with(
            &server,
            &format!("Nachricht {i}"),
            "",
            "de",
            &[("X-Forwarded-For", &from)],
        )
        .await?;
        assert_eq!(sent.status, 303, "message {i}");
    }
    let busy = send_with(
        &server,
        "Noch eine",
        "",
        "en",
        &[("X-Forwarded-For", "192.0.2.77")],
    )
    .await?;
    assert_eq!(busy.status, 429);
    assert!(
        busy.text().contains("Very many messages are arriving"),
        "{}",
        busy.text()
    );
    assert!(busy.text().contains(">Noch eine</textarea>"));
    assert!(
        busy.text()
            .contains("<title>Error: Accessibility statement – Hallway</title>")
    );
    Ok(())
}
