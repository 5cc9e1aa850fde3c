//! `hallway room …`: rooms in the store, for operators (the rooms, their checks and the
//! defaults are the `catalogue`'s; here are the command line's words and files). A running
//! server opens a room created here on its first visit; changes to a room that is already
//! running apply from the server's next start.

use crate::catalogue::{Catalogue, CatalogueError, PlanChange, RoomChange};
use crate::config::{RoomArgs, RoomCommand};
use crate::floor_plan::FloorPlan;

/// Why a room command failed, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum RoomCommandError {
    /// The catalogue refused the change.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The floor plan's file could not be read.
    #[error("cannot read the floor plan {0}: {1}")]
    FloorPlanFile(String, std::io::Error),
    /// The icebreakers' file could not be read.
    #[error("cannot read the icebreakers {0}: {1}")]
    IcebreakersFile(String, std::io::Error),
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
        return Ok(Some(PlanChange::Set(Some(
            FloorPlan::parse_builtin(arg).map_err(CatalogueError::from)?,
        ))));
    }
    let bytes =
        std::fs::read(arg).map_err(|err| RoomCommandError::FloorPlanFile(arg.to_owned(), err))?;
    crate::floor_plan::check_image(&bytes).map_err(CatalogueError::from)?;
    Ok(Some(PlanChange::Upload(bytes)))
}

/// The largest file of icebreakers read (50 prompts of 200 characters fit many times).
const MAX_ICEBREAKERS_FILE_BYTES: u64 = 64 * 1024;

/// Reads `--icebreaker-prompts` (a file, or `builtin`): the lines of the room's own
/// prompts, if they are to change (the catalogue checks them).
fn icebreakers_change(args: &RoomArgs) -> Result<Option<Vec<String>>, RoomCommandError> {
    let lines = match args.icebreaker_prompts.as_deref() {
        None => return Ok(None),
        Some("builtin") => Vec::new(),
        Some(path) => {
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
                return Err(CatalogueError::InvalidIcebreakers.into());
            }
            text.lines().map(str::to_owned).collect()
        }
    };
    Ok(Some(lines))
}

/// The change `hallway room create|update` asks for, with the files it names read.
fn change_of(args: &RoomArgs) -> Result<RoomChange, RoomCommandError> {
    Ok(RoomChange {
        title: args.title.clone(),
        width: args.width,
        height: args.height,
        max_participants: args.max_participants,
        max_circle_size: args.max_circle_size,
        access: args.access,
        passcode: args.passcode.clone(),
        mesh_threshold: args.mesh_threshold,
        privacy: args.privacy,
        walk_speed: args.walk_speed,
        alone_minutes: args.alone_minutes,
        icebreakers: args.icebreakers,
        icebreaker_prompts: icebreakers_change(args)?,
        waiting_room: args.waiting_room,
        waiting_message: args.waiting_message.clone(),
        floor_plan: plan_change(args.floor_plan.as_deref())?,
    })
}

/// Runs a room command on the rooms of `catalogue`; returns what to print.
pub fn room_command(
    catalogue: &Catalogue,
    command: &RoomCommand,
) -> Result<String, RoomCommandError> {
    match command {
        RoomCommand::List => {
            let mut out =
                String::from("slug\ttitle\tfloor\tmax participants\tmax circle\tfloor plan\n");
            for r in catalogue.list()? {
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
            // Said before any file is read.
            catalogue.may_create(&args.slug)?;
            let record = catalogue.create(&args.slug, &change_of(args)?)?;
            Ok(format!("created room {}\n", record.slug))
        }
        RoomCommand::Update(args) => {
            catalogue.may_update(&args.slug)?;
            let record = catalogue.update(&args.slug, &change_of(args)?)?;
            Ok(format!("updated room {}\n", record.slug))
        }
        RoomCommand::Delete { slug } => {
            catalogue.delete(slug)?;
            Ok(format!("deleted room {slug}\n"))
        }
    }
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
