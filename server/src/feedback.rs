//! Feedback about barriers (BITV 2.0 § 7 asks for a way to report them): a message and an
//! optional contact, sent from the form on `/accessibility`. Where it goes is the
//! operator's choice: by e-mail (`--feedback-email`, over `--smtp-url`), or kept in the
//! store for the admin API (`GET /api/feedback`). A message that cannot be mailed is kept
//! too, so that none is lost.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::statement::Lang;
// The messages as kept (a record of the store's, like a room's).
pub use crate::store::feedback::{Feedback, KEPT_DAYS, KeptFeedback, MAX_KEPT};
use crate::store::{RoomStore, StoreError};

/// Where feedback goes (`--feedback-…`, `--smtp-url`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FeedbackArgs {
    /// Send accessibility feedback to this e-mail address (needs `--smtp-url`); without
    /// it, feedback is kept for the admin API (`GET /api/feedback`).
    #[arg(long, env = "HALLWAY_FEEDBACK_EMAIL", value_parser = mailbox, requires = "smtp_url")]
    pub feedback_email: Option<Mailbox>,

    /// The sender of those e-mails (default: the address they go to).
    #[arg(long, env = "HALLWAY_FEEDBACK_FROM", value_parser = mailbox)]
    pub feedback_from: Option<Mailbox>,

    /// The mail server: `smtp://host:25` (plain, for a relay on the same network),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://host:465`.
    #[arg(long, env = "HALLWAY_SMTP_URL", hide_env_values = true, value_parser = smtp_url)]
    pub smtp_url: Option<String>,
}

fn mailbox(value: &str) -> Result<Mailbox, String> {
    value
        .parse::<Mailbox>()
        .map_err(|err| format!("not an e-mail address: {err}"))
}

fn smtp_url(value: &str) -> Result<String, String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(value)
        .map(|_| value.to_owned())
        .map_err(|err| format!("not an SMTP address (smtp://host:port …): {err}"))
}

/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Longest contact line, in characters.
pub const MAX_CONTACT_CHARS: usize = 200;
/// Messages one address may send per [`PER_ADDRESS_WINDOW`].
pub const PER_ADDRESS: usize = 5;
/// The window of [`PER_ADDRESS`].
pub const PER_ADDRESS_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Messages the whole server takes per [`NODE_WINDOW`] (against a flood from many
/// addresses).
pub const PER_NODE: usize = 100;
/// The window of [`PER_NODE`].
pub const NODE_WINDOW: Duration = Duration::from_secs(60 * 60);
/// How long sending one e-mail may take before the message is kept instead.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a message was not taken. Each is shown at its field, with the text kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// The message is empty.
    #[error("the message is empty")]
    Empty,
    /// The message is longer than [`MAX_MESSAGE_CHARS`].
    #[error("the message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    /// The contact is longer than [`MAX_CONTACT_CHARS`] or more than one line.
    #[error("the contact is not one line of at most {MAX_CONTACT_CHARS} characters")]
    BadContact,
    /// Control characters other than line breaks and tabs, or bidirectional overrides.
    #[error("the message holds control characters or bidirectional overrides")]
    BadCharacters,
    /// Too many messages from this address (or its IPv6 /64) just now.
    #[error("too many messages from this address just now")]
    TooMany,
    /// Too many messages to this server just now, from everywhere.
    #[error("too many messages to this server just now")]
    Busy,
    /// The form was sent from another site's page.
    #[error("the form was sent from another site")]
    OtherSite,
}

impl FeedbackError {
    /// The code in the admin API and the logs.
    pub fn code(self) -> &'static str {
        match self {
            FeedbackError::Empty => "empty",
            FeedbackError::TooLong => "too_long",
            FeedbackError::BadContact => "bad_contact",
            FeedbackError::BadCharacters => "bad_characters",
            FeedbackError::TooMany => "too_many",
            FeedbackError::Busy => "busy",
            FeedbackError::OtherSite => "other_site",
        }
    }
}

impl Feedback {
    /// Checks a form's fields. Line endings become `\n`; surrounding blanks go.
    pub fn new(message: &str, contact: &str, lang: Lang) -> Result<Feedback, FeedbackError> {
        let message = message.replace("\r\n", "\n").replace('\r', "\n");
        let message = message.trim();
        if message.is_empty() {
            return Err(FeedbackError::Empty);
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(FeedbackError::TooLong);
        }
        // As in chat: no control characters but line breaks and tabs, no bidirectional
        // overrides (which would make the operator's mail read other than it was written).
        if message.chars().any(crate::room::text::refused_in_text) {
            return Err(FeedbackError::BadCharacters);
        }
        let contact = contact.trim();
        if contact.chars().count() > MAX_CONTACT_CHARS
            || contact
                .chars()
                .any(|c| c.is_control() || crate::room::text::refused_in_text(c))
        {
            return Err(FeedbackError::BadContact);
        }
        Ok(Feedback {
            message: message.to_owned(),
            contact: (!contact.is_empty()).then(|| contact.to_owned()),
            lang: lang.code().to_owned(),
        })
    }
}

/// Counts messages per address and for the whole server over sliding windows.
#[derive(Debug, Default)]
pub struct RateLimit {
    inner: Mutex<Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    per_address: HashMap<IpAddr, VecDeque<Instant>>,
    node: VecDeque<Instant>,
}

/// Addresses remembered at most (the oldest windows are dropped first when full).
const MAX_ADDRESSES: usize = 10_000;

impl RateLimit {
    /// Whether `from` may send a message at `now`; counts it if so. An IPv6 address
    /// counts with its /64 (one connection usually has a whole /64 to pick from).
    pub fn allow(&self, from: IpAddr, now: Instant) -> Result<(), FeedbackError> {
        let from = match from {
            IpAddr::V6(v6) => {
                let mut bytes = v6.octets();
                bytes[8..].fill(0);
                IpAddr::V6(bytes.into())
            }
            v4 => v4,
        };
        // The lock is held for a few map operations, never across an `.await`; a panic
        // inside cannot leave the counts inconsistent beyond one message.
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let expire = |q: &mut VecDeque<Instant>, window: Duration| {
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
        };
        expire(&mut w.node, NODE_WINDOW);
        if w.node.len() >= PER_NODE {
            return Err(FeedbackError::Busy);
        }
        if w.per_address.len() >= MAX_ADDRESSES {
            w.per_address.retain(|_, q| {
                expire(q, PER_ADDRESS_WINDOW);
                !q.is_empty()
            });
        }
        if w.per_address.len() >= MAX_ADDRESSES && !w.per_address.contains_key(&from) {
            return Err(FeedbackError::Busy);
        }
        let queue = w.per_address.entry(from).or_default();
        expire(queue, PER_ADDRESS_WINDOW);
        if queue.len() >= PER_ADDRESS {
            return Err(FeedbackError::TooMany);
        }
        queue.push_back(now);
        w.node.push_back(now);
        Ok(())
    }
}

/// Where a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// Mailed to the operator.
    Mailed,
    /// Kept for the admin API (by choice, or because mailing failed).
    Kept,
}

/// Takes messages to where the operator wants them.
#[derive(Clone)]
pub struct FeedbackBox {
    store: Arc<dyn RoomStore>,
    mail: Option<Mail>,
    /// Who sends how many.
    pub limit: Arc<RateLimit>,
}

#[derive(Clone)]
struct Mail {
    to: Mailbox,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for FeedbackBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackBox")
            .field("mail_to", &self.mail.as_ref().map(|m| m.to.to_string()))
            .finish_non_exhaustive()
    }
}

/// Why the feedback settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackSetupError {
    /// `--smtp-url` could not be read.
    #[error("--smtp-url: {0}")]
    SmtpUrl(String),
}

impl FeedbackBox {
    /// From the settings; messages are kept in `store` unless mailed.
    pub fn new(
        args: &FeedbackArgs,
        store: Arc<dyn RoomStore>,
    ) -> Result<FeedbackBox, FeedbackSetupError> {
        let mail = match (&args.feedback_email, &args.smtp_url) {
            (Some(to), Some(url)) => Some(Mail {
                to: to.clone(),
                from: args.feedback_from.clone().unwrap_or_else(|| to.clone()),
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| FeedbackSetupError::SmtpUrl(err.to_string()))?
                    .timeout(Some(SEND_TIMEOUT))
                    .build(),
            }),
            _ => None,
        };
        Ok(FeedbackBox {
            store,
            mail,
            limit: Arc::new(RateLimit::default()),
        })
    }

    /// Whether messages go out by e-mail.
    pub fn mails(&self) -> bool {
        self.mail.is_some()
    }

    /// Mails or keeps `feedback`. A message that cannot be mailed is kept (and the
    /// failure logged, without its text); `Err` only when it could not be kept either.
    pub async fn deliver(&self, feedback: Feedback) -> Result<Delivered, StoreError> {
        if let Some(mail) = &self.mail {
            match mail.send(&feedback).await {
                Ok(()) => return Ok(Delivered::Mailed),
                Err(err) => {
                    tracing::error!(
                        %err,
                        "cannot mail accessibility feedback; kept for the admin API (GET /api/feedback)"
                    );
                }
            }
        }
        let store = self.store.clone();
        let received = crate::clock::now_secs();
        tokio::task::spawn_blocking(move || store.add_feedback(&feedback, received))
            .await
            .map_err(|err| StoreError::Io(std::io::Error::other(err.to_string())))??;
        Ok(Delivered::Kept)
    }
}

/// Deletes kept feedback past its time every hour (and once now), also when no new
/// message comes that would do it.
pub fn spawn_purge(store: Arc<dyn RoomStore>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60 * 60));
        loop {
            every.tick().await;
            let store = store.clone();
            let purged = tokio::task::spawn_blocking(move || {
                store.feedback(crate::clock::now_secs()).map(|_| ())
            })
            .await;
            if let Ok(Err(err)) = purged {
                tracing::warn!(%err, "cannot purge old accessibility feedback");
            }
        }
    });
}

impl Mail {
    async fn send(&self, feedback: &Feedback) -> Result<(), String> {
        let contact = feedback.contact.as_deref().unwrap_or("—");
        let body = format!(
            "Rückmeldung zur Barrierefreiheit / Accessibility feedback\n\n{}\n\n\
             Kontakt / Contact: {contact}\nSprache der Seite / Page language: {}\n",
            feedback.message, feedback.lang
        );
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject("Hallway: Rückmeldung zur Barrierefreiheit / accessibility feedback");
        // An answer goes straight to the person, when their contact is an address (the
        // address alone: a display name they typed could pose as someone else).
        if let Some(reply) = feedback
            .contact
            .as_deref()
            .and_then(|c| c.parse::<Mailbox>().ok())
        {
            message = message.reply_to(Mailbox::new(None, reply.email));
        }
        let message = message
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|err| err.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_checked_and_tidied() {
        let ok = Feedback::new(
            "  Die Schrift ist zu klein.\r\nBitte größer. ",
            "",
            Lang::De,
        )
        .expect("taken");
        assert_eq!(ok.message, "Die Schrift ist zu klein.\nBitte größer.");
        assert_eq!(ok.contact, None);
        assert_eq!(ok.lang, "de");
        assert_eq!(
            Feedback::new(" \n ", "", Lang::De),
            Err(FeedbackError::Empty)
        );
        assert_eq!(
            Feedback::new(&"ä".repeat(MAX_MESSAGE_CHARS + 1), "", Lang::En),
            Err(FeedbackError::TooLong)
        );
        assert!(Feedback::new(&"ä".repeat(MAX_MESSAGE_CHARS), "", Lang::En).is_ok());
        assert_eq!(
            Feedback::new("a\u{7}b", "", Lang::En),
            Err(FeedbackError::BadCharacters)
        );
        assert_eq!(
            Feedback::new("hi", "a\nb", Lang::En),
            Err(FeedbackError::BadContact)
        );
        assert_eq!(
            Feedback::new("\u{202E}txet", "", Lang::En),
            Err(FeedbackError::BadCharacters)
        );
        assert_eq!(
            Feedback::new("hi", "\u{2066}a@b.example", Lang::En),
            Err(FeedbackError::BadContact)
        );
    }

    #[test]
    fn each_address_gets_a_few_messages_and_the_server_a_hundred_an_hour() {
        let limit = RateLimit::default();
        let start = Instant::now();
        let a: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..PER_ADDRESS {
            assert_eq!(limit.allow(a, start), Ok(()));
        }
        assert_eq!(limit.allow(a, start), Err(FeedbackError::TooMany));
        assert_eq!(limit.allow(a, start + PER_ADDRESS_WINDOW), Ok(()));
        let mut sent = PER_ADDRESS + 1;
        for i in 0u32.. {
            let from: IpAddr = std::net::Ipv4Addr::from(0x0a00_0000 + i).into();
            match limit.allow(from, start + PER_ADDRESS_WINDOW) {
                Ok(()) => sent += 1,
                Err(err) => {
                    assert_eq!(err, FeedbackError::Busy);
                    break;
                }
            }
        }
        assert_eq!(sent, PER_NODE);
        assert_eq!(
            limit.allow(a, start + NODE_WINDOW + Duration::from_secs(1)),
            Ok(())
        );
    }

    #[test]
    fn an_ipv6_connection_counts_with_its_64() {
        let limit = RateLimit::default();
        let now = Instant::now();
        for i in 0..PER_ADDRESS as u16 {
            let from = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i));
            assert_eq!(limit.allow(from, now), Ok(()));
        }
        let same_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        assert_eq!(limit.allow(same_64, now), Err(FeedbackError::TooMany));
        let other_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        assert_eq!(limit.allow(other_64, now), Ok(()));
    }
}
