//! A limit on the root fields of one operation (`MAX_ROOT_FIELDS_EXCEEDED`,
//! reported as a validation error), which Hive Router 0.2 has no setting
//! for. Depth, aliases and tokens already bound how big an operation is;
//! this bounds how many independent resolvers one request starts, fragments
//! at the root included.

use std::collections::HashSet;

use hive_router::{
    graphql_tools::{
        ast::{OperationVisitor, OperationVisitorContext},
        static_graphql::query::{
            Definition, Document, OperationDefinition, Selection, SelectionSet,
        },
        validation::{
            rules::{ValidationRule, ValidationVisitor},
            utils::{ValidationError, ValidationErrorContext},
        },
    },
    plugins::{
        hooks::{
            on_graphql_validation::{
                OnGraphQLValidationStartHookPayload, OnGraphQLValidationStartHookResult,
            },
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
};
use serde::Deserialize;

/// The code the router reports; the error-codes plugin maps it to
/// `GRAPHQL_VALIDATION_FAILED` like the router's own limits.
pub const CODE: &str = "MAX_ROOT_FIELDS_EXCEEDED";

#[derive(Debug, Deserialize)]
pub struct RootFieldsConfig {
    /// The most root fields one operation may select.
    pub max: usize,
}

pub struct RootFieldsPlugin {
    max: usize,
}

#[hive_router::async_trait]
impl RouterPlugin for RootFieldsPlugin {
    type Config = RootFieldsConfig;

    fn plugin_name() -> &'static str {
        "salesync_root_fields"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        Ok(Some(RootFieldsPlugin { max: config.max }))
    }

    async fn on_graphql_validation<'exec>(
        &'exec self,
        payload: OnGraphQLValidationStartHookPayload<'exec>,
    ) -> OnGraphQLValidationStartHookResult<'exec> {
        payload
            .with_validation_rule(MaxRootFields { max: self.max })
            .proceed()
    }
}

/// The validation rule behind the plugin.
#[derive(Clone, Copy)]
pub struct MaxRootFields {
    pub max: usize,
}

impl MaxRootFields {
    /// Root fields of `selection`, through fragments (each spread once).
    fn count<'a>(
        &self,
        selection: &'a SelectionSet,
        context: &OperationVisitorContext<'a>,
        seen: &mut HashSet<&'a str>,
    ) -> usize {
        selection
            .items
            .iter()
            .map(|item| match item {
                Selection::Field(_) => 1,
                Selection::InlineFragment(inline) => {
                    self.count(&inline.selection_set, context, seen)
                }
                Selection::FragmentSpread(spread) => {
                    match context.known_fragments.get(spread.fragment_name.as_str()) {
                        Some(fragment) if seen.insert(spread.fragment_name.as_str()) => {
                            self.count(&fragment.selection_set, context, seen)
                        }
                        _ => 0,
                    }
                }
            })
            .sum()
    }
}

impl<'doc> OperationVisitor<'doc, ValidationErrorContext> for MaxRootFields {
    fn enter_document(
        &mut self,
        context: &mut OperationVisitorContext<'doc>,
        errors: &mut ValidationErrorContext,
        document: &'doc Document,
    ) {
        for definition in &document.definitions {
            let Definition::Operation(operation) = definition else {
                continue;
            };
            let (selection, position) = match operation {
                OperationDefinition::SelectionSet(set) => (set, set.span.0),
                OperationDefinition::Query(q) => (&q.selection_set, q.position),
                OperationDefinition::Mutation(m) => (&m.selection_set, m.position),
                OperationDefinition::Subscription(s) => (&s.selection_set, s.position),
            };
            let fields = self.count(selection, context, &mut HashSet::new());
            if fields > self.max {
                errors.report_error(ValidationError {
                    locations: vec![position],
                    message: format!(
                        "the operation selects {fields} root fields; at most {} are allowed",
                        self.max
                    ),
                    error_code: CODE,
                });
            }
        }
    }
}

impl ValidationRule for MaxRootFields {
    fn visitor<'doc>(&self) -> ValidationVisitor<'doc> {
        Box::new(*self)
    }

    fn error_code(&self) -> &'static str {
        CODE
    }
}
