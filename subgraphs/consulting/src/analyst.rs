//! The built-in analyst: advice written from the numbers alone, when no
//! model is configured, so the feature works offline.
//!
//! Menu engineering: each item's popularity (quantity sold) and unit margin
//! (profit per unit) against the menu's: stars (both high), plough horses
//! (popular, thin margin), puzzles (good margin, rarely ordered), dogs
//! (neither). Then what loses money, what earns most, the strong and weak
//! days, and promotions, each with the report's own figures. It computes
//! its judgements but never prints a number the report does not contain.

use chrono::{Datelike, NaiveDate};

use crate::domain::{Day, ItemLine, Language, Report};

/// Where an item stands on the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Star,
    PloughHorse,
    Puzzle,
    Dog,
}

/// Classifies the items sold: popular when it sold at least 70 % of the
/// average quantity (the usual menu-engineering rule), profitable when its
/// profit per unit is at least the menu's.
pub fn classify(items: &[ItemLine]) -> Vec<(&ItemLine, Class)> {
    let sold: Vec<&ItemLine> = items.iter().filter(|i| i.quantity > 0).collect();
    if sold.is_empty() {
        return Vec::new();
    }
    let quantity: i64 = sold.iter().map(|i| i.quantity).sum();
    let profit: i64 = sold.iter().map(|i| i.profit).sum();
    let average_quantity = quantity as f64 / sold.len() as f64;
    let average_margin = profit as f64 / quantity as f64;
    sold.into_iter()
        .map(|item| {
            let popular = item.quantity as f64 >= 0.7 * average_quantity;
            let profitable = item.profit as f64 / item.quantity as f64 >= average_margin;
            let class = match (popular, profitable) {
                (true, true) => Class::Star,
                (true, false) => Class::PloughHorse,
                (false, true) => Class::Puzzle,
                (false, false) => Class::Dog,
            };
            (item, class)
        })
        .collect()
}

/// `12,000`: digits grouped by three, as the text quotes amounts.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

struct Words {
    language: Language,
}

impl Words {
    fn money(&self, n: i64) -> String {
        match self.language {
            Language::Ko => format!("{}원", grouped(n)),
            Language::En if n < 0 => format!("-₩{}", grouped(-n)),
            Language::En => format!("₩{}", grouped(n)),
        }
    }

    fn weekday(&self, date: NaiveDate) -> &'static str {
        let ko = ["월", "화", "수", "목", "금", "토", "일"];
        let en = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let i = date.weekday().num_days_from_monday() as usize;
        match self.language {
            Language::Ko => ko[i],
            Language::En => en[i],
        }
    }

    fn t<'a>(&self, ko: &'a str, en: &'a str) -> &'a str {
        match self.language {
            Language::Ko => ko,
            Language::En => en,
        }
    }

    fn item(&self, item: &ItemLine) -> String {
        match self.language {
            Language::Ko => format!(
                "**{}**: {}개 판매, 매출 {}, 이익 {}",
                item.label(),
                grouped(item.quantity),
                self.money(item.sales_volume),
                self.money(item.profit)
            ),
            Language::En => format!(
                "**{}**: {} sold, sales {}, profit {}",
                item.label(),
                grouped(item.quantity),
                self.money(item.sales_volume),
                self.money(item.profit)
            ),
        }
    }

    fn day(&self, day: &Day) -> String {
        match self.language {
            Language::Ko => format!(
                "{} ({}): 매출 {}, 주문 {}건",
                day.date,
                self.weekday(day.date),
                self.money(day.sales_volume),
                grouped(day.order_count)
            ),
            Language::En => format!(
                "{} ({}): sales {}, {} orders",
                day.date,
                self.weekday(day.date),
                self.money(day.sales_volume),
                grouped(day.order_count)
            ),
        }
    }
}

/// The advice, in Markdown.
pub fn advise(report: &Report, language: Language) -> String {
    let w = Words { language };
    let mut out = String::new();
    out.push_str(&format!(
        "# {}\n\n",
        w.t("매출 분석과 프로모션 제안", "Sales analysis and promotions")
    ));
    out.push_str(&match language {
        Language::Ko => format!(
            "{} ~ {}: 매출 {}, 원가 {}, 이익 {}.\n\n",
            report.from,
            report.to,
            w.money(report.sales_volume),
            w.money(report.cost),
            w.money(report.profit)
        ),
        Language::En => format!(
            "{} to {}: sales {}, cost {}, profit {}.\n\n",
            report.from,
            report.to,
            w.money(report.sales_volume),
            w.money(report.cost),
            w.money(report.profit)
        ),
    });
    let classes = classify(&report.items);
    if classes.is_empty() {
        out.push_str(w.t(
            "이 기간에는 판매가 없어 분석할 내용이 없습니다. 판매가 쌓이면 다시 요청해 주세요.\n",
            "There were no sales in this period, so there is nothing to analyse yet. Ask again once sales come in.\n",
        ));
        return out;
    }

    out.push_str(&format!(
        "## {}\n\n",
        w.t("메뉴 엔지니어링", "Menu engineering")
    ));
    let groups = [
        (
            Class::Star,
            w.t(
                "스타 (인기 높고 마진 좋음): 지금처럼 눈에 띄게 유지하세요",
                "Stars (popular, good margin): keep them prominent",
            ),
        ),
        (
            Class::PloughHorse,
            w.t(
                "플라우 호스 (인기 높고 마진 낮음): 가격이나 원가를 손보세요",
                "Plough horses (popular, thin margin): adjust price or cost",
            ),
        ),
        (
            Class::Puzzle,
            w.t(
                "퍼즐 (마진 좋고 인기 낮음): 더 알리세요",
                "Puzzles (good margin, rarely ordered): promote them",
            ),
        ),
        (
            Class::Dog,
            w.t(
                "도그 (인기 낮고 마진 낮음): 개선하거나 메뉴에서 빼세요",
                "Dogs (rarely ordered, thin margin): rework or remove",
            ),
        ),
    ];
    for (class, title) in groups {
        let members: Vec<&ItemLine> = classes
            .iter()
            .filter(|(_, c)| *c == class)
            .map(|(i, _)| *i)
            .collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!("**{title}**\n\n"));
        for item in members {
            out.push_str(&format!("- {}\n", w.item(item)));
        }
        out.push('\n');
    }

    let losing: Vec<&ItemLine> = report.items.iter().filter(|i| i.profit < 0).collect();
    out.push_str(&format!(
        "## {}\n\n",
        w.t("손해 보는 메뉴", "Items that lose money")
    ));
    if losing.is_empty() {
        out.push_str(w.t(
            "원가보다 싸게 팔리는 메뉴는 없습니다.\n\n",
            "No item sells below its cost.\n\n",
        ));
    } else {
        for item in &losing {
            out.push_str(&format!("- {}\n", w.item(item)));
        }
        out.push('\n');
    }

    let mut earners: Vec<&ItemLine> = report.items.iter().filter(|i| i.profit > 0).collect();
    earners.sort_by_key(|item| std::cmp::Reverse(item.profit));
    earners.truncate(3);
    if !earners.is_empty() {
        out.push_str(&format!(
            "## {}\n\n",
            w.t("가장 많이 버는 메뉴", "Items that earn most")
        ));
        for item in &earners {
            out.push_str(&format!("- {}\n", w.item(item)));
        }
        out.push('\n');
    }

    let mut open_days: Vec<&Day> = report.days.iter().filter(|d| d.order_count > 0).collect();
    open_days.sort_by(|a, b| {
        b.sales_volume
            .cmp(&a.sales_volume)
            .then(a.date.cmp(&b.date))
    });
    let strong: Vec<&Day> = open_days.iter().take(3).copied().collect();
    let weak: Vec<&Day> = open_days.iter().rev().take(3).copied().collect();
    if open_days.len() >= 2 {
        out.push_str(&format!(
            "## {}\n\n",
            w.t("강한 날과 약한 날", "Strong and weak days")
        ));
        out.push_str(&format!("**{}**\n\n", w.t("강한 날", "Strongest")));
        for day in &strong {
            out.push_str(&format!("- {}\n", w.day(day)));
        }
        out.push_str(&format!("\n**{}**\n\n", w.t("약한 날", "Weakest")));
        for day in &weak {
            out.push_str(&format!("- {}\n", w.day(day)));
        }
        out.push('\n');
    }

    out.push_str(&format!("## {}\n\n", w.t("프로모션 제안", "Promotions")));
    let first = |class: Class| {
        classes
            .iter()
            .filter(|(_, c)| *c == class)
            .map(|(i, _)| *i)
            .max_by_key(|i| (i.profit, i.quantity))
    };
    let star = first(Class::Star);
    let puzzle = first(Class::Puzzle);
    let horse = first(Class::PloughHorse);
    // The weakest dog that still earns (a losing one has its own line).
    let dog = classes
        .iter()
        .filter(|(i, c)| *c == Class::Dog && i.profit >= 0)
        .map(|(i, _)| *i)
        .min_by_key(|i| (i.profit, i.quantity));
    if let (Some(star), Some(puzzle)) = (star, puzzle) {
        out.push_str(&match language {
            Language::Ko => format!(
                "- **세트 메뉴**: 인기 메뉴 {}와(과) 마진 좋은 {}를(을) 묶어 파세요. {}는(은) {}개 팔렸지만 {}는(은) {}개에 그쳤고, 이익은 {}입니다.\n",
                star.label(), puzzle.label(), star.label(), grouped(star.quantity),
                puzzle.label(), grouped(puzzle.quantity), w.money(puzzle.profit)
            ),
            Language::En => format!(
                "- **Bundle**: pair the popular {} with the high-margin {}. {} sold {}, while {} sold only {} for a profit of {}.\n",
                star.label(), puzzle.label(), star.label(), grouped(star.quantity),
                puzzle.label(), grouped(puzzle.quantity), w.money(puzzle.profit)
            ),
        });
    }
    if let Some(day) = weak.first().filter(|_| open_days.len() >= 2) {
        out.push_str(&match language {
            Language::Ko => format!(
                "- **해피 아워**: 손님이 적은 {}요일에 시간 한정 할인을 여세요. {}의 매출은 {}, 주문은 {}건이었습니다.\n",
                w.weekday(day.date), day.date, w.money(day.sales_volume), grouped(day.order_count)
            ),
            Language::En => format!(
                "- **Happy hour**: run a time-limited offer on quiet {}s. {} brought sales of {} from {} orders.\n",
                w.weekday(day.date), day.date, w.money(day.sales_volume), grouped(day.order_count)
            ),
        });
    }
    if let Some(horse) = horse {
        out.push_str(&match language {
            Language::Ko => format!(
                "- **가격 조정**: {}는(은) {}개나 팔렸지만 이익은 {}에 그칩니다. 가격을 조금 올리거나 원가를 낮추세요.\n",
                horse.label(), grouped(horse.quantity), w.money(horse.profit)
            ),
            Language::En => format!(
                "- **Price change**: {} sold {} but earned only {}. Raise its price a little or lower its cost.\n",
                horse.label(), grouped(horse.quantity), w.money(horse.profit)
            ),
        });
    }
    for item in &losing {
        out.push_str(&match language {
            Language::Ko => format!(
                "- **손실 메뉴**: {}는(은) 이 기간 {}의 손해를 냈습니다. 원가 이상으로 가격을 올리거나 판매를 멈추세요.\n",
                item.label(), w.money(item.profit.abs())
            ),
            Language::En => format!(
                "- **Stop the loss**: {} lost {} in this period. Price it above its cost or stop selling it.\n",
                item.label(), w.money(item.profit.abs())
            ),
        });
    }
    if let Some(dog) = dog {
        out.push_str(&match language {
            Language::Ko => format!(
                "- **메뉴 정리**: {}는(은) {}개, 이익 {}로 가장 약합니다. 레시피를 바꾸거나 메뉴에서 빼는 것을 검토하세요.\n",
                dog.label(), grouped(dog.quantity), w.money(dog.profit)
            ),
            Language::En => format!(
                "- **Menu clean-up**: {} is the weakest, with {} sold and a profit of {}. Rework the recipe or take it off the menu.\n",
                dog.label(), grouped(dog.quantity), w.money(dog.profit)
            ),
        });
    }
    if let Some(day) = strong.first().filter(|_| open_days.len() >= 2) {
        out.push_str(&match language {
            Language::Ko => format!(
                "- **바쁜 날 준비**: {}요일이 가장 바쁩니다 ({} 매출 {}). 인기 메뉴 재료와 인력을 미리 준비하세요.\n",
                w.weekday(day.date), day.date, w.money(day.sales_volume)
            ),
            Language::En => format!(
                "- **Busy days**: {}s are the busiest ({} brought {}). Prepare ingredients and staff for the stars ahead of time.\n",
                w.weekday(day.date), day.date, w.money(day.sales_volume)
            ),
        });
    }
    out
}

/// Every number the text states (`12,000` is one number), for the check
/// that advice quotes only the report.
pub fn numbers_in(text: &str) -> Vec<i64> {
    let mut numbers = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut digits = String::new();
            while i < chars.len() {
                if chars[i].is_ascii_digit() {
                    digits.push(chars[i]);
                    i += 1;
                } else if chars[i] == ','
                    && i + 3 < chars.len() + 1
                    && chars[i + 1..]
                        .iter()
                        .take(3)
                        .filter(|c| c.is_ascii_digit())
                        .count()
                        == 3
                    && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit())
                {
                    i += 1;
                } else {
                    break;
                }
            }
            if let Ok(n) = digits.parse() {
                numbers.push(n);
            }
        } else {
            i += 1;
        }
    }
    numbers
}

/// Every number the report holds, as the text may state it: amounts and
/// counts without their sign, and each date's year, month and day.
pub fn numbers_of(report: &Report) -> std::collections::HashSet<i64> {
    let mut numbers = std::collections::HashSet::new();
    let mut date = |d: NaiveDate| {
        numbers.insert(i64::from(d.year()));
        numbers.insert(i64::from(d.month()));
        numbers.insert(i64::from(d.day()));
    };
    date(report.from);
    date(report.to);
    for day in &report.days {
        date(day.date);
    }
    for n in [report.sales_volume, report.cost, report.profit] {
        numbers.insert(n.abs());
    }
    for item in &report.items {
        for n in [item.quantity, item.sales_volume, item.cost, item.profit] {
            numbers.insert(n.abs());
        }
        // A name may hold digits of its own ("Mandu (6)").
        numbers.extend(numbers_in(item.label()));
    }
    for day in &report.days {
        for n in [day.sales_volume, day.profit, day.order_count] {
            numbers.insert(n.abs());
        }
    }
    numbers
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn item(n: u128, name: &str, quantity: i64, price: i64, unit_cost: i64) -> ItemLine {
        ItemLine {
            item_id: Uuid::from_u128(n),
            name: Some(name.to_string()),
            quantity,
            sales_volume: quantity * price,
            cost: quantity * unit_cost,
            profit: quantity * (price - unit_cost),
        }
    }

    fn day(d: u32, sales_volume: i64, order_count: i64) -> Day {
        Day {
            date: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            sales_volume,
            profit: sales_volume / 2,
            order_count,
        }
    }

    /// A week of a small restaurant: one of each class, and a loss-maker.
    fn report() -> Report {
        let items = vec![
            item(1, "Bibimbap", 120, 11_000, 3_800),     // star
            item(2, "Kimchi jjigae", 110, 9_000, 7_900), // plough horse
            item(3, "Galbitang", 20, 25_000, 8_300),     // puzzle
            item(4, "Gyeran jjim", 15, 5_000, 3_900),    // dog
            item(5, "Patbingsu", 12, 6_000, 7_500),      // dog, loses money
        ];
        let sales_volume = items.iter().map(|i| i.sales_volume).sum();
        let cost = items.iter().map(|i| i.cost).sum();
        let profit = items.iter().map(|i| i.profit).sum();
        Report {
            from: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            sales_volume,
            cost,
            profit,
            items,
            days: vec![
                day(16, 310_000, 21),
                day(17, 250_000, 18),
                day(18, 0, 0),
                day(19, 420_000, 30),
                day(20, 910_000, 61),
                day(21, 1_050_000, 70),
                day(22, 640_000, 44),
            ],
        }
    }

    #[test]
    fn items_are_classified_by_popularity_and_margin_against_the_menu() {
        let report = report();
        let classes: Vec<(&str, Class)> = classify(&report.items)
            .into_iter()
            .map(|(i, c)| (i.label(), c))
            .collect();
        assert_eq!(
            classes,
            vec![
                ("Bibimbap", Class::Star),
                ("Kimchi jjigae", Class::PloughHorse),
                ("Galbitang", Class::Puzzle),
                ("Gyeran jjim", Class::Dog),
                ("Patbingsu", Class::Dog),
            ]
        );
    }

    #[test]
    fn the_advice_quotes_only_figures_of_the_report() {
        let report = report();
        let allowed = numbers_of(&report);
        for language in [Language::Ko, Language::En] {
            let text = advise(&report, language);
            let stated = numbers_in(&text);
            assert!(stated.len() > 20, "it quotes figures: {text}");
            for n in stated {
                assert!(allowed.contains(&n), "{n} is not in the report:\n{text}");
            }
        }
    }

    #[test]
    fn the_advice_names_the_classes_losses_and_promotions() {
        let ko = advise(&report(), Language::Ko);
        for expected in [
            "스타",
            "플라우 호스",
            "퍼즐",
            "도그",
            "손해 보는 메뉴",
            "**Patbingsu**",
            "세트 메뉴",
            "해피 아워",
            "가격 조정",
            "화요일",
            "토요일",
        ] {
            assert!(ko.contains(expected), "{expected} in:\n{ko}");
        }
        let en = advise(&report(), Language::En);
        for expected in [
            "Stars",
            "Plough horses",
            "Puzzles",
            "Dogs",
            "Menu clean-up**: Gyeran jjim",
            "Bundle",
            "pair the popular Bibimbap with the high-margin Galbitang",
            "Happy hour",
            "Tuesday",
            "Price change**: Kimchi jjigae",
            "Stop the loss**: Patbingsu lost ₩18,000",
        ] {
            assert!(en.contains(expected), "{expected} in:\n{en}");
        }
    }

    #[test]
    fn a_period_without_sales_says_so() {
        let mut report = report();
        report.items.clear();
        let text = advise(&report, Language::En);
        assert!(text.contains("no sales"));
    }

    #[test]
    fn numbers_are_read_as_written() {
        assert_eq!(
            numbers_in("sold 1,234 for ₩12,000 on 2026-11-20, 3 orders, 1,23 x"),
            vec![1234, 12000, 2026, 11, 20, 3, 1, 23]
        );
    }
}
