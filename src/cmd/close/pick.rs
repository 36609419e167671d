//! The interactive confirmation: a picker of the planned groups, then a yes/no.

use crate::close::{self, Plan};
use crate::report::escape_control;
use crate::timefmt::human_age;

/// One line of the picker: the group (escaped: it is a stored session key), verdict,
/// reason, idle time and how many records are linked.
fn pick_label(i: &close::Item, now: i64) -> String {
    let s = &i.sessions[0];
    let age = s
        .last_activity_at
        .map(|t| human_age(now - t))
        .unwrap_or_else(|| "?".into());
    let also = if i.sessions.len() > 1 {
        format!(" +{} linked", i.sessions.len() - 1)
    } else {
        String::new()
    };
    format!(
        "{}  {} ({}), idle {age}{also}",
        escape_control(&i.group),
        s.verdict.name(),
        s.reason.name()
    )
}

/// The interactive picker: every candidate pre-selected, with verdict, reason and age.
pub(super) fn pick(plan: &mut Plan, now: i64) -> Result<bool, String> {
    let labels: Vec<String> = plan.items.iter().map(|i| pick_label(i, now)).collect();
    let defaults = vec![true; labels.len()];
    let theme = dialoguer::theme::SimpleTheme;
    let chosen = dialoguer::MultiSelect::with_theme(&theme)
        .with_prompt("Orphans to close (space toggles, enter accepts, q or Esc cancels)")
        .items(&labels)
        .defaults(&defaults)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|e| format!("prompt failed: {e}"))?;
    let Some(chosen) = chosen else {
        return Ok(false);
    };
    if chosen.is_empty() {
        return Ok(false);
    }
    let keep: Vec<bool> = (0..plan.items.len()).map(|i| chosen.contains(&i)).collect();
    let mut k = keep.iter();
    plan.items.retain(|_| *k.next().unwrap_or(&false));
    let n = plan.items.len();
    // `q` and Esc cancel here as they do in the list above (`interact_on` ignores them).
    let yes = dialoguer::Confirm::with_theme(&theme)
        .with_prompt(format!("Close {n} session group(s)?"))
        .default(false)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|e| format!("prompt failed: {e}"))?;
    Ok(yes == Some(true))
}
