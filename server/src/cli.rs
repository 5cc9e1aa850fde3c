//! `hallway room …`: rooms in the store, for operators. A running server opens a room
//! created here on its first visit; changes to a room that is already running apply from
//! the server's next start.

use crate::access::{AccessMode, RoomAccess};
use crate::config::{RoomArgs, RoomCommand};
use crate::floor_plan::FloorPlan;
use crate::room::Room;
use crate::rooms::is_valid_slug;
use crate::store::{RoomRecord, RoomStore};

/// Why a room command failed, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum RoomCommandError {
    /// The slug is not usable in a URL.
    #[error("room slugs are 1 to 64 characters of a-z, 0-9 and -")]
    InvalidSlug,
    /// Creating a room that exists.
    #[error("a room {0} already exists")]
    Exists(String),
    /// Updating or deleting a room that does not.
    #[error("there is no room {0}")]
    NotFound(String),
    /// `--access passcode` without a passcode, or a passcode with another mode.
    #[error(
        "a passcode room needs --passcode (at least 4 characters), and only a passcode room takes one"
    )]
    PasscodeMissing,
    /// Settings out of range.
    #[error(
        "invalid settings: floors are 100 to 100000 units, circles at least 2 people, titles 1 to 64 characters without control or invisible characters"
    )]
    InvalidSettings,
    /// The floor plan is not a built-in plan's name, or its file is not an image Hallway
    /// takes.
    #[error(transparent)]
    FloorPlan(#[from] crate::floor_plan::FloorPlanError),
    /// The floor plan's file could not be read.
    #[error("cannot read the floor plan {0}: {1}")]
    FloorPlanFile(String, std::io::Error),
    /// The room's own icebreakers are too many, too long or have control characters.
    #[error(
        "icebreakers: at most 50 prompts, one a line, of at most 200 characters each, without control or bidirectional characters"
    )]
    InvalidIcebreakers,
    /// The icebreakers' file could not be read.
    #[error("cannot read the icebreakers {0}: {1}")]
    IcebreakersFile(String, std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What `--floor-plan` asks for.
enum PlanChange {
    /// A built-in plan, or none.
    Set(Option<FloorPlan>),
    /// An image file's checked bytes, to keep.
    Upload(Vec<u8>),
}

/// Reads `--floor-plan`: `none`, `builtin:<name>`, or else the path of an image file.
fn plan_change(arg: Option<&str>) -> Result<Option<PlanChange>, RoomCommandError> {
    let Some(arg) = arg else {
        return Ok(None);
    };
    if arg == "none" {
        return Ok(Some(PlanChange::Set(None)));
    }
    if arg.starts_with("builtin:") {
        return Ok(Some(PlanChange::Set(Some(FloorPlan::parse_builtin(arg)?))));
    }
    let bytes =
        std::fs::read(arg).map_err(|err| RoomCommandError::FloorPlanFile(arg.to_owned(), err))?;
    crate::floor_plan::check_image(&bytes)?;
    Ok(Some(PlanChange::Upload(bytes)))
}

/// The largest file of icebreakers read (50 prompts of 200 characters fit many times).
const MAX_ICEBREAKERS_FILE_BYTES: u64 = 64 * 1024;

/// Reads `--icebreaker-prompts` (a file, or `builtin`) or the admin API's list: the
/// room's own prompts, checked, if they are to change.
fn icebreakers_change(args: &RoomArgs) -> Result<Option<Vec<String>>, RoomCommandError> {
    let lines = match (&args.icebreaker_list, args.icebreaker_prompts.as_deref()) {
        (Some(list), _) => list.clone(),
        (None, None) => return Ok(None),
        (None, Some("builtin")) => Vec::new(),
        (None, Some(path)) => {
            use std::io::Read;
            let file_error = |err| RoomCommandError::IcebreakersFile(path.to_owned(), err);
            let mut text = String::new();
            std::fs::File::open(path)
                .and_then(|f| {
                    f.take(MAX_ICEBREAKERS_FILE_BYTES + 1)
                        .read_to_string(&mut text)
                })
                .map_err(file_error)?;
            if text.len() as u64 > MAX_ICEBREAKERS_FILE_BYTES {
                return Err(RoomCommandError::InvalidIcebreakers);
            }
            text.lines().map(str::to_owned).collect()
        }
    };
    crate::room::icebreakers::parse_prompts(&lines)
        .map(Some)
        .map_err(|_| RoomCommandError::InvalidIcebreakers)
}

/// Puts the plan into the record, keeping an uploaded image first.
fn apply_plan(
    store: &dyn RoomStore,
    record: &mut RoomRecord,
    change: Option<PlanChange>,
) -> Result<(), RoomCommandError> {
    match change {
        None => {}
        Some(PlanChange::Set(plan)) => record.floor_plan = plan,
        Some(PlanChange::Upload(bytes)) => {
            store.put_floor_plan_image(&record.slug, &bytes)?;
            record.floor_plan = Some(FloorPlan::Upload {
                version: crate::floor_plan::version_of(&bytes),
            });
        }
    }
    Ok(())
}

/// Runs a room command; returns what to print.
pub fn room_command(
    store: &dyn RoomStore,
    command: &RoomCommand,
    defaults: &RoomRecord,
) -> Result<String, RoomCommandError> {
    match command {
        RoomCommand::List => {
            let mut out =
                String::from("slug\ttitle\tfloor\tmax participants\tmax circle\tfloor plan\n");
            for r in store.list()? {
                let plan = r
                    .floor_plan
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), ToString::to_string);
                out.push_str(&format!(
                    "{}\t{}\t{}×{}\t{}\t{}\t{}\n",
                    r.slug, r.title, r.width, r.height, r.max_participants, r.max_circle_size, plan
                ));
            }
            Ok(out)
        }
        RoomCommand::Create(args) => {
            check_slug(&args.slug)?;
            if store.get(&args.slug)?.is_some() {
                return Err(RoomCommandError::Exists(args.slug.clone()));
            }
            let base = RoomRecord {
                slug: args.slug.clone(),
                title: crate::server::title_of(&args.slug),
                ..defaults.clone()
            };
            let plan = plan_change(args.floor_plan.as_deref())?;
            let mut record = apply(base, args)?;
            apply_plan(store, &mut record, plan)?;
            record.revision = rand::random();
            store.put(&record)?;
            Ok(format!("created room {}\n", record.slug))
        }
        RoomCommand::Update(args) => {
            check_slug(&args.slug)?;
            let current = store
                .get(&args.slug)?
                .ok_or_else(|| RoomCommandError::NotFound(args.slug.clone()))?;
            let plan = plan_change(args.floor_plan.as_deref())?;
            let mut record = apply(current, args)?;
            apply_plan(store, &mut record, plan)?;
            record.revision = record.revision.wrapping_add(1);
            store.put(&record)?;
            Ok(format!("updated room {}\n", record.slug))
        }
        RoomCommand::Delete { slug } => {
            if store.delete(slug)? {
                Ok(format!("deleted room {slug}\n"))
            } else {
                Err(RoomCommandError::NotFound(slug.clone()))
            }
        }
    }
}

fn check_slug(slug: &str) -> Result<(), RoomCommandError> {
    if is_valid_slug(slug) {
        Ok(())
    } else {
        Err(RoomCommandError::InvalidSlug)
    }
}

/// The record with the given settings changed, checked as the engine would.
fn apply(mut record: RoomRecord, args: &RoomArgs) -> Result<RoomRecord, RoomCommandError> {
    if let Some(title) = &args.title {
        let title = title.trim();
        // Shown to everyone who joins: the same characters refused as in names.
        let bad = title.chars().any(crate::room::text::refused_in_label);
        if title.is_empty() || title.chars().count() > 64 || bad {
            return Err(RoomCommandError::InvalidSettings);
        }
        record.title = title.to_owned();
    }
    record.width = args.width.unwrap_or(record.width);
    record.height = args.height.unwrap_or(record.height);
    record.max_participants = args.max_participants.unwrap_or(record.max_participants);
    record.max_circle_size = args.max_circle_size.unwrap_or(record.max_circle_size);
    record.mesh_threshold = args.mesh_threshold.unwrap_or(record.mesh_threshold);
    record.privacy = args.privacy.unwrap_or(record.privacy);
    record.walk_speed = args.walk_speed.unwrap_or(record.walk_speed);
    record.alone_minutes = args.alone_minutes.unwrap_or(record.alone_minutes);
    record.icebreakers = args.icebreakers.unwrap_or(record.icebreakers);
    record.waiting_room = args.waiting_room.unwrap_or(record.waiting_room);
    if let Some(message) = &args.waiting_message {
        record.waiting_message = crate::room::engine::waiting::clean_waiting_message(message)
            .map_err(|_| RoomCommandError::InvalidSettings)?
            .unwrap_or_default();
    }
    if let Some(prompts) = icebreakers_change(args)? {
        record.icebreaker_prompts = prompts;
    }
    match (args.access, &args.passcode) {
        (Some(AccessMode::Passcode) | None, Some(passcode)) => {
            if passcode.trim().chars().count() < 4 {
                return Err(RoomCommandError::InvalidSettings);
            }
            record.access = RoomAccess::with_passcode(passcode);
        }
        (Some(AccessMode::Passcode), None) if record.access.mode != AccessMode::Passcode => {
            return Err(RoomCommandError::PasscodeMissing);
        }
        (Some(AccessMode::Passcode), None) => {}
        (Some(mode), None) => {
            record.access = RoomAccess {
                mode,
                passcode_hash: None,
            }
        }
        (None, None) => {}
        (Some(_), Some(_)) => return Err(RoomCommandError::PasscodeMissing),
    }
    if record.mesh_threshold < 2 {
        return Err(RoomCommandError::InvalidSettings);
    }
    Room::new(record.settings()).map_err(|_| RoomCommandError::InvalidSettings)?;
    Ok(record)
}

/// Where a server bound to `bind` is reached from this machine (a wildcard means any
/// interface: use loopback).
pub fn local_addr(bind: std::net::IpAddr, port: u16) -> std::net::SocketAddr {
    let ip = if bind.is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        bind
    };
    std::net::SocketAddr::new(ip, port)
}

/// `hallway health`: GET /healthz on `addr`; Ok when it answers 200 within 3 seconds.
pub fn health(addr: std::net::SocketAddr) -> Result<(), String> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .map_err(|e| format!("cannot ask {addr}: {e}"))?;
    let mut head = [0u8; 12];
    stream
        .read_exact(&mut head)
        .map_err(|e| format!("no answer from {addr}: {e}"))?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "{addr} answered {:?}",
            String::from_utf8_lossy(&head)
        ))
    }
}
