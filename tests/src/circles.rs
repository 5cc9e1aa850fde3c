//! Circles formed on purpose: clients walked together and waited for.

use anyhow::Result;

use crate::TestClient;

/// Walks `clients` into one circle around (600, 600) and waits until all see it.
pub async fn circle_of(clients: &mut [TestClient]) -> Result<()> {
    let ids: Vec<String> = clients.iter().map(|c| c.id.clone()).collect();
    for (k, c) in clients.iter_mut().enumerate() {
        let angle = k as f64 * 1.3;
        c.move_to(600.0 + 40.0 * angle.cos(), 600.0 + 40.0 * angle.sin())
            .await?;
    }
    for c in clients.iter_mut() {
        c.wait_for_circle_with(&ids).await?;
    }
    Ok(())
}
