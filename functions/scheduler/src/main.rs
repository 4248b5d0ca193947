//! RUN-2: EventBridge schedule with detail `{"mode": "full|modified", "tenant"?, "flow"?}`
//! → one run per tenant and flow under the flow's lease; a Full run cut at the invocation's
//! deadline continues in a follow-up event. Logic: `puente_lambda::scheduler`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use puente_lambda::{aws_sdk_config, scheduler, slice_deadline, Ctx, EventBridgeFollowUp};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    // Once per container: configuration, AWS clients, connectors.
    let sdk = aws_sdk_config().await;
    let ctx = &*Box::leak(Box::new(Ctx::from_env(&sdk)?));
    puente_lambda::log_init(started);
    let follow_up = &*Box::leak(Box::new(EventBridgeFollowUp::new(&sdk)));
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<serde_json::Value>| async move {
            let deadline = slice_deadline(ev.context.deadline);
            let s = scheduler(ctx, ev.payload, Some(deadline), follow_up).await?;
            Ok::<_, Error>(serde_json::to_value(s)?)
        },
    ))
    .await
}
