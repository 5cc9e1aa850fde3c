//! Cluster mode over Redis: many nodes behind a load balancer serve the same rooms. Each
//! room runs on one owner node, which holds the room's [`lease::Lease`]; the other nodes
//! forward their participants' commands to it and fan its messages out to their own
//! sockets. (Being built: so far the leases, and the rooms and link secret every node
//! shares.)

pub mod lease;
pub mod store;

pub use lease::{ClusterError, Lease};
pub use store::RedisStore;

/// Connects to Redis at `url`, reconnecting by itself when the connection drops.
pub async fn connect(url: &str) -> Result<redis::aio::ConnectionManager, ClusterError> {
    let client = redis::Client::open(url)?;
    Ok(client.get_connection_manager().await?)
}
