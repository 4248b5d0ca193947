//! RUN-3: SQS FIFO batch → match, merge, write, link, log; transient failures are returned
//! as `batchItemFailures` (the function's SQS event uses `ReportBatchItemFailures`).
//! Logic: `puente_lambda::worker`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use puente_lambda::sqs::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    // Once per container: configuration, AWS clients, connectors.
    let sdk = puente_lambda::aws_sdk_config().await;
    let ctx = &*Box::leak(Box::new(puente_lambda::Ctx::from_env(&sdk)?));
    puente_lambda::log_init(started);
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(puente_lambda::worker(ctx, ev.payload).await)
    }))
    .await
}
