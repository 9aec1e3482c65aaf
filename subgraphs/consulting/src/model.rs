//! An OpenAI-compatible model through `async-openai`, streamed: the advice
//! arrives in pieces, which the worker publishes as it goes.

use async_openai::{
    Client,
    config::OpenAIConfig,
    types::chat::{
        ChatCompletionRequestSystemMessageArgs, ChatCompletionRequestUserMessageArgs,
        CreateChatCompletionRequestArgs,
    },
};
use futures::{Stream, StreamExt};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::Prompt;

#[derive(Clone)]
pub struct Model {
    client: Client<OpenAIConfig>,
    pub name: String,
}

impl Model {
    pub fn new(api_key: &SecretString, base_url: Option<&str>, name: &str) -> Self {
        let mut config = OpenAIConfig::new().with_api_key(api_key.expose_secret());
        if let Some(base) = base_url {
            config = config.with_api_base(base.trim_end_matches('/'));
        }
        Model {
            client: Client::with_config(config),
            name: name.to_string(),
        }
    }

    /// The completion of `prompt`, piece by piece; an error ends it.
    pub async fn stream(
        &self,
        prompt: &Prompt,
    ) -> Result<impl Stream<Item = Result<String, String>> + use<>, String> {
        let request = CreateChatCompletionRequestArgs::default()
            .model(&self.name)
            .messages([
                ChatCompletionRequestSystemMessageArgs::default()
                    .content(prompt.system.as_str())
                    .build()
                    .map_err(|e| e.to_string())?
                    .into(),
                ChatCompletionRequestUserMessageArgs::default()
                    .content(prompt.user.as_str())
                    .build()
                    .map_err(|e| e.to_string())?
                    .into(),
            ])
            .build()
            .map_err(|e| e.to_string())?;
        let stream = self
            .client
            .chat()
            .create_stream(request)
            .await
            .map_err(|e| format!("the model could not be called: {e}"))?;
        Ok(stream.map(|chunk| {
            chunk
                .map(|chunk| {
                    chunk
                        .choices
                        .into_iter()
                        .filter_map(|choice| choice.delta.content)
                        .collect::<String>()
                })
                .map_err(|e| format!("the model failed: {e}"))
        }))
    }
}
