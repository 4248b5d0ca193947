//! Problems on AWS (APC-8): every tenant's notifications also go to the stack's SNS topic
//! (`ALERT_TOPIC_ARN`), and the worker reports a change SQS is about to dead-letter.

use async_trait::async_trait;
use aws_lambda_events::sqs::SqsMessage;
use puente_runtime::notify::{Message, Notifier as _, Problem, ProblemKind, ProblemRecord, Sink};
use puente_runtime::App;

/// Publishes each message to an SNS topic (subject: tenant and count).
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSink {
    pub fn new(sdk: &aws_config::SdkConfig, topic_arn: &str) -> SnsSink {
        SnsSink {
            client: aws_sdk_sns::Client::new(sdk),
            topic_arn: topic_arn.to_string(),
        }
    }
}

#[async_trait]
impl Sink for SnsSink {
    fn name(&self) -> &str {
        "sns"
    }

    async fn send(&self, msg: &Message) -> Result<(), String> {
        // SNS subjects: ASCII, at most 100 characters, no line breaks.
        let subject: String = format!(
            "Puente: {} problem{} ({})",
            msg.problems,
            if msg.problems == 1 { "" } else { "s" },
            msg.tenant
        )
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .take(100)
        .collect();
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(&msg.text)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "SNS publish: {}",
                    aws_sdk_sns::error::DisplayErrorContext(e)
                )
            })
    }
}

/// Reports the change of an SQS record that failed its last allowed delivery (SQS moves it
/// to the dead-letter queue next).
pub fn dead_letter(app: &App, message_id: &str, rec: &SqsMessage, why: &str) {
    let ev: Option<puente_runtime::events::ChangeEvent> = rec
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let Some(ev) = ev else { return };
    app.notifier.notify(Problem {
        kind: ProblemKind::DeadLetter,
        tenant: ev.tenant.clone(),
        flow: None,
        system: ev.system.clone(),
        record: Some(ProblemRecord {
            kind: ev.kind.as_str().to_string(),
            system: ev.system,
            id: ev.id,
        }),
        detail: format!(
            "failed its last delivery ({why}); it is in the dead-letter queue as message {message_id}: replay it from the failures page or with `puente dlq replay --aws`"
        ),
    });
}
