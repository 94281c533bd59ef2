//! Zendesk job statuses for bulk endpoints (`create_many`, `update_many`,
//! `destroy_many`). Steward runs a bulk job (at most 100 items, as Zendesk)
//! inside the request, one transaction per item so that one bad item does
//! not undo the others, and stores the outcome so that clients polling
//! `job_statuses/{id}` see it.

use sqlx::Row;

use crate::{
    Store,
    error::{Result, StoreError},
};

#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub id: String,
    pub job_type: String,
    pub owner_id: i64,
    pub status: String,
    pub total: i64,
    pub progress: i64,
    pub results: serde_json::Value,
    pub message: Option<String>,
}

impl Store {
    pub async fn save_job(&self, job: &JobStatus, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_statuses (id, job_type, owner_id, status, total, progress, results, message, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&job.id)
        .bind(&job.job_type)
        .bind(job.owner_id)
        .bind(&job.status)
        .bind(job.total)
        .bind(job.progress)
        .bind(serde_json::to_string(&job.results)?)
        .bind(&job.message)
        .bind(now)
        .execute(&self.write)
        .await?;
        self.make_durable().await?;
        Ok(())
    }

    /// A job of `owner_id` (other users' jobs are not found).
    pub async fn job(&self, id: &str, owner_id: i64) -> Result<JobStatus> {
        let mut conn = self.reader().await?;
        let row = sqlx::query(
            "SELECT id, job_type, owner_id, status, total, progress, results, message FROM job_statuses WHERE id = $1 AND owner_id = $2",
        )
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("job status"))?;
        Ok(JobStatus {
            id: row.try_get("id")?,
            job_type: row.try_get("job_type")?,
            owner_id: row.try_get("owner_id")?,
            status: row.try_get("status")?,
            total: row.try_get("total")?,
            progress: row.try_get("progress")?,
            results: serde_json::from_str(&row.try_get::<String, _>("results")?)?,
            message: row.try_get("message")?,
        })
    }
}
