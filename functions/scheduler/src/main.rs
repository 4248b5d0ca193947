//! RUN-2: EventBridge schedule with detail `{"flow": "...", "mode": "full|modified"}` → one
//! run of the flow under its lease; the summary is logged and returned.
//! Logic: `puente_lambda::scheduler`.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Once per container: configuration, AWS clients, connectors.
    let ctx = &*Box::leak(Box::new(puente_lambda::Ctx::from_env().await?));
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<serde_json::Value>| async move {
            let s = puente_lambda::scheduler(ctx, ev.payload).await?;
            Ok::<_, Error>(serde_json::to_value(s)?)
        },
    ))
    .await
}
