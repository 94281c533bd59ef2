//! The outbox on both databases: effects written in the cause's
//! transaction, once per idempotency key, claimed with leases, retried with
//! backoff, and never lost when a worker dies.

use serde_json::json;

use crate::helpers::fresh_store;

#[tokio::test]
async fn outbox_rows_live_and_die_with_their_transaction() {
    let (store, _dir) = fresh_store().await;
    let now = 1_800_000_000;

    // Rolled back with its cause: nothing to deliver.
    let mut tx = store.begin().await.unwrap();
    assert!(
        store
            .enqueue(
                &mut tx,
                "webhook",
                "ticket-1-created",
                &json!({"id": 1}),
                now
            )
            .await
            .unwrap()
    );
    tx.rollback().await.unwrap();
    assert!(
        store
            .claim_outbox("w1", 10, 60, now)
            .await
            .unwrap()
            .is_empty()
    );

    // Committed: exactly once per key.
    let mut tx = store.begin().await.unwrap();
    assert!(
        store
            .enqueue(
                &mut tx,
                "webhook",
                "ticket-1-created",
                &json!({"id": 1}),
                now
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .enqueue(
                &mut tx,
                "webhook",
                "ticket-1-created",
                &json!({"id": 1}),
                now
            )
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let claimed = store.claim_outbox("w1", 10, 60, now).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].idempotency_key, "ticket-1-created");
    assert_eq!(claimed[0].payload["id"], 1);
    // Leased: another worker does not get it...
    assert!(
        store
            .claim_outbox("w2", 10, 60, now + 1)
            .await
            .unwrap()
            .is_empty()
    );
    // ...until the lease expires (the first worker died).
    let again = store.claim_outbox("w2", 10, 60, now + 61).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1, "attempts count claims");

    // A failure reschedules with backoff; success ends it.
    store
        .fail_outbox(again[0].id, 2, "receiver said 503", now + 61)
        .await
        .unwrap();
    assert!(
        store
            .claim_outbox("w2", 10, 60, now + 62)
            .await
            .unwrap()
            .is_empty()
    );
    let later = store
        .claim_outbox("w2", 10, 60, now + 61 + 120)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    store.complete_outbox(later[0].id, now + 200).await.unwrap();
    assert!(
        store
            .claim_outbox("w3", 10, 60, now + 100_000)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Concurrent commits share WAL fsyncs (SQLite's group commit), and every
/// one of them is acknowledged only after an fsync that covers it.
#[tokio::test]
async fn concurrent_commits_share_fsyncs() {
    let (store, _dir) = fresh_store().await;
    let Some(before) = store.wal_fsyncs() else {
        return; // PostgreSQL: its own WAL does this.
    };
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            store
                .enqueue(&mut tx, "test", &format!("k{i}"), &json!({}), 1)
                .await
                .unwrap();
            store.commit(tx).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let fsyncs = store.wal_fsyncs().unwrap() - before;
    assert!(fsyncs >= 1, "commits were acknowledged without an fsync");
    assert!(
        fsyncs < 64,
        "64 concurrent commits took {fsyncs} fsyncs: no grouping"
    );
    assert_eq!(store.claim_outbox("w", 100, 60, 2).await.unwrap().len(), 64);
}

/// The workers poll several times a second; a tick that finds nothing due
/// must not cost a disk flush.
#[tokio::test]
async fn idle_worker_ticks_cost_no_fsync() {
    let (store, _dir) = fresh_store().await;
    if store.wal_fsyncs().is_none() {
        return; // PostgreSQL: no group fsync of ours to count.
    }
    // The first automation tick finishes the seeded rules' initial sweep.
    store.run_automations(1_800_000_000, 100).await.unwrap();
    let before = store.wal_fsyncs().unwrap();
    for _ in 0..5 {
        store.fire_due_sla(1_800_000_000, 100).await.unwrap();
        store
            .fire_due_escalations(1_800_000_000, 100)
            .await
            .unwrap();
        store
            .claim_outbox("w", 10, 60, 1_800_000_000)
            .await
            .unwrap();
        store.run_automations(1_800_000_000, 100).await.unwrap();
    }
    assert_eq!(store.wal_fsyncs().unwrap(), before);
}
