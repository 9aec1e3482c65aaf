//! One [`Snapshot`] for each request of a schema whose queries read several
//! things that must agree: a dashboard query's reports read one moment of
//! its database, whatever commits while they run.

use std::sync::Arc;

use async_graphql::{
    Context, Request, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};
use sea_orm::DatabaseConnection;

use crate::{Error, Result, db::Snapshot};

/// The schema extension that gives each request its own [`Snapshot`] of
/// one database; resolvers reach it with [`SnapshotExt::snapshot`].
pub struct SnapshotPerRequest(Arc<GiveSnapshot>);

impl SnapshotPerRequest {
    pub fn new(db: DatabaseConnection) -> Self {
        SnapshotPerRequest(Arc::new(GiveSnapshot(db)))
    }
}

impl ExtensionFactory for SnapshotPerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        self.0.clone()
    }
}

struct GiveSnapshot(DatabaseConnection);

#[async_trait::async_trait]
impl Extension for GiveSnapshot {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(Snapshot::new(self.0.clone())))
            .await
    }
}

pub trait SnapshotExt {
    /// The request's snapshot; an internal error in a schema built without
    /// [`SnapshotPerRequest`].
    fn snapshot(&self) -> Result<&Snapshot>;
}

impl SnapshotExt for Context<'_> {
    fn snapshot(&self) -> Result<&Snapshot> {
        self.data_opt::<Snapshot>().ok_or_else(|| {
            Error::internal(anyhow::anyhow!("the schema gives its requests no snapshot"))
        })
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
    use tokio::sync::Notify;

    use super::*;
    use crate::testing::scratch_sqlite;

    async fn sales(db: &impl ConnectionTrait) -> Result<i64> {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM sales",
            ))
            .await?
            .expect("a count");
        Ok(row.try_get("", "n")?)
    }

    /// A query whose first report counts the sales, then a sale commits
    /// while its second report waits; the second counts after it.
    struct Query;

    #[Object]
    impl Query {
        async fn first(&self, ctx: &Context<'_>) -> Result<i64> {
            let counted = sales(ctx.snapshot()?.reader().await?).await?;
            let db = ctx.data_unchecked::<DatabaseConnection>();
            db.execute_unprepared("INSERT INTO sales (amount) VALUES (3000)")
                .await?;
            ctx.data_unchecked::<Notify>().notify_one();
            Ok(counted)
        }

        async fn second(&self, ctx: &Context<'_>) -> Result<i64> {
            ctx.data_unchecked::<Notify>().notified().await;
            sales(ctx.snapshot()?.reader().await?).await
        }
    }

    #[tokio::test]
    async fn a_requests_fields_read_one_moment_and_the_next_request_a_later_one() {
        let db = scratch_sqlite("snapshot").await;
        db.execute_unprepared("CREATE TABLE sales (amount INTEGER NOT NULL)")
            .await
            .expect("table");
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(SnapshotPerRequest::new(db.clone()))
            .data(db.clone())
            .data(Notify::new())
            .finish();

        let mut answers = Vec::new();
        for _ in 0..2 {
            let response = schema.execute("{ first second }").await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            answers.push(response.data.into_json().expect("json"));
        }
        assert_eq!(
            answers,
            [
                serde_json::json!({ "first": 0, "second": 0 }),
                serde_json::json!({ "first": 1, "second": 1 }),
            ],
            "the sale committed between a request's fields shows in the next request only"
        );
    }
}
