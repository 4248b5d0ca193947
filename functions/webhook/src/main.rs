//! RUN-1: `POST /webhooks/{tenant}/{system}/{secret}` on API Gateway HTTP API → check, parse,
//! enqueue on SQS, answer 202. Logic: `puente_lambda::webhook`. The same function serves the
//! activity page (APC-8) on `ANY /ui/{proxy+}`: `puente_lambda::ui`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use puente_lambda::apigw::ApiGatewayV2httpRequest;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    // Once per container: configuration, AWS clients, connectors, the page's router.
    let sdk = puente_lambda::aws_sdk_config().await;
    let ctx = &*Box::leak(Box::new(puente_lambda::Ctx::from_env(&sdk)?));
    let ui = puente_lambda::ui::router(ctx);
    puente_lambda::log_init(started);
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<ApiGatewayV2httpRequest>| {
            let ui = ui.clone();
            async move {
                if puente_lambda::ui::is_ui(&ev.payload) {
                    return Ok::<_, Error>(puente_lambda::ui::handle(ui, ev.payload).await);
                }
                Ok::<_, Error>(puente_lambda::webhook(ctx, ev.payload).await)
            }
        },
    ))
    .await
}
