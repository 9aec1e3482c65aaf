//! The consulting subgraph's types, free of I/O: a request's status and
//! language, and the sales report advice is written from.

use chrono::NaiveDate;
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

pub use salesync_common::consulting::ConsultingStatus;
use uuid::Uuid;

/// The language advice is written in.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    async_graphql::Enum,
    sea_orm::DeriveActiveEnum,
    sea_orm::EnumIter,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Language {
    /// Korean.
    #[default]
    #[sea_orm(string_value = "ko")]
    Ko,
    /// English.
    #[sea_orm(string_value = "en")]
    En,
}

/// The period's sales report, as the dashboard subgraph gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sales_volume: i64,
    pub cost: i64,
    pub profit: i64,
    /// Highest sales volume first.
    pub items: Vec<ItemLine>,
    /// Every business day of the period.
    pub days: Vec<Day>,
}

/// One item's figures over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemLine {
    pub item_id: Uuid,
    pub name: Option<String>,
    pub quantity: i64,
    pub sales_volume: i64,
    pub cost: i64,
    pub profit: i64,
}

impl ItemLine {
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("?")
    }
}

/// One business day's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: NaiveDate,
    pub sales_volume: i64,
    pub profit: i64,
    pub order_count: i64,
}

/// What a model is asked: its role, and the report with the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

/// The prompt for a model: a consultant proposing promotions from each
/// item's sales, cost and profit, every figure of the report in a table.
pub fn prompt(report: &Report, language: Language) -> Prompt {
    let answer_in = match language {
        Language::Ko => "Answer in Korean.",
        Language::En => "Answer in English.",
    };
    let system = format!(
        "You are a business consultant for a small restaurant. From the owner's sales report \
         you propose promotions: which items lose money, which earn most, which to bundle, \
         when to run happy hours, which prices to change, each with the figures that justify \
         it. Quote only figures that appear in the report. Write Markdown. {answer_in}"
    );
    let mut user = format!(
        "Sales report from {} to {} (amounts in the store's currency, smallest unit).\n\n\
         Total sales volume: {}\nTotal cost: {}\nTotal profit: {}\n\n\
         | item | quantity | sales volume | cost | profit |\n|---|---|---|---|---|\n",
        report.from, report.to, report.sales_volume, report.cost, report.profit
    );
    for item in &report.items {
        user.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            item.label(),
            item.quantity,
            item.sales_volume,
            item.cost,
            item.profit
        ));
    }
    user.push_str("\n| business day | sales volume | profit | orders |\n|---|---|---|---|\n");
    for day in &report.days {
        user.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            day.date, day.sales_volume, day.profit, day.order_count
        ));
    }
    user.push_str("\nPropose concrete promotions for the coming weeks.");
    Prompt { system, user }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_carries_every_figure_of_the_report() {
        let report = Report {
            from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            sales_volume: 51_000,
            cost: 17_000,
            profit: 34_000,
            items: vec![ItemLine {
                item_id: Uuid::nil(),
                name: Some("Bibimbap".into()),
                quantity: 4,
                sales_volume: 48_000,
                cost: 16_000,
                profit: 32_000,
            }],
            days: vec![Day {
                date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                sales_volume: 51_000,
                profit: 34_000,
                order_count: 3,
            }],
        };
        let prompt = prompt(&report, Language::En);
        for figure in [
            "Bibimbap",
            "48000",
            "16000",
            "32000",
            "51000",
            "34000",
            "2026-11-01",
        ] {
            assert!(prompt.user.contains(figure), "{figure} in {}", prompt.user);
        }
        assert!(prompt.system.contains("English"));
    }
}
