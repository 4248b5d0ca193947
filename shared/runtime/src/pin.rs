//! `puente link A:ID B:ID` (issue 17): a person settles what Puente would not guess. When a
//! key matches several unlinked records (`ambiguous` in the log), pinning the right pair
//! stores a link between them in the flow; the next run or webhook syncs that pair like any
//! linked one, and the records left over are matched among themselves.

use crate::App;
use puente_core::Kind;
use puente_store::Link;

/// Pins `first` and `second` (each `CONNECTION:ID`) as one `kind` record in the flow that
/// syncs those two connections (`flow` when several do). Each id is parsed with its
/// vendor's id syntax; a record already linked to another is refused with the link it has.
/// Returns what was done, for the user.
pub async fn pin(
    app: &App,
    first: (&str, &str),
    second: (&str, &str),
    kind: Kind,
    flow: Option<&str>,
) -> Result<String, String> {
    let candidates: Vec<_> = app
        .flows
        .iter()
        .filter(|f| {
            let (a, b) = (f.a.system(), f.b.system());
            (a == first.0 && b == second.0) || (a == second.0 && b == first.0)
        })
        .filter(|f| flow.is_none_or(|n| f.name == n))
        .collect();
    let f = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "no flow{} syncs connections '{}' and '{}'; flows: {}",
                flow.map(|n| format!(" named '{n}'")).unwrap_or_default(),
                first.0,
                second.0,
                app.flows
                    .iter()
                    .map(|f| format!("{} ({} ⇄ {})", f.name, f.a.system(), f.b.system()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        many => {
            return Err(format!(
                "several flows sync '{}' and '{}' ({}); name one with --flow",
                first.0,
                second.0,
                many.iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    if !f.kinds.contains(&kind) {
        return Err(format!("flow '{}' does not sync {kind}s", f.name));
    }
    let (a_id, b_id) = if f.a.system() == first.0 {
        (first.1, second.1)
    } else {
        (second.1, first.1)
    };
    let a_id =
        f.a.id_syntax(kind)
            .parse(a_id)
            .map_err(|e| format!("{}: {e}", f.a.system()))?;
    let b_id =
        f.b.id_syntax(kind)
            .parse(b_id)
            .map_err(|e| format!("{}: {e}", f.b.system()))?;
    let scope = f.scope(kind);
    let mut existing = None;
    for (sys, id, other_sys, other_id) in [
        (f.a.system(), &a_id, f.b.system(), &b_id),
        (f.b.system(), &b_id, f.a.system(), &a_id),
    ] {
        if let Some(l) = f
            .store
            .link_by_external(scope, sys, id)
            .await
            .map_err(|e| e.to_string())?
        {
            match l.ids.get(other_sys) {
                Some(x) if x == other_id => existing = Some(l),
                Some(x) => {
                    return Err(format!(
                        "{sys}:{id} is already linked to {other_sys}:{x} in flow {} (link {})",
                        f.name, l.id
                    ))
                }
                None => existing = Some(l),
            }
        }
    }
    if let Some(l) = existing.as_ref().filter(|l| {
        l.ids.get(f.a.system()) == Some(&a_id) && l.ids.get(f.b.system()) == Some(&b_id)
    }) {
        return Ok(format!(
            "{}:{a_id} and {}:{b_id} are already linked in flow {} (link {})",
            f.a.system(),
            f.b.system(),
            f.name,
            l.id
        ));
    }
    // A link holding one side only (a record whose counterpart was deleted) takes the other.
    let mut link = existing.unwrap_or_else(|| Link {
        tenant: f.tenant.clone(),
        flow: f.name.clone(),
        kind: kind.as_str().to_string(),
        id: format!("{}:{a_id}", f.a.system()),
        key: None,
        more_keys: Vec::new(),
        ids: Default::default(),
        field_hashes: Default::default(),
        record_hashes: Default::default(),
        version: 0,
        updated_at: chrono::Utc::now(),
    });
    link.ids.insert(f.a.system().to_string(), a_id.clone());
    link.ids.insert(f.b.system().to_string(), b_id.clone());
    let saved = f.store.save_link(&link).await.map_err(|e| e.to_string())?;
    tracing::info!(tenant = %f.tenant, flow = %f.name, %kind, link = %saved.id,
        "pinned {}:{a_id} ⇄ {}:{b_id} by hand", f.a.system(), f.b.system());
    Ok(format!(
        "linked {}:{a_id} ⇄ {}:{b_id} in flow {} (link {}); the next run or webhook syncs them",
        f.a.system(),
        f.b.system(),
        f.name,
        saved.id
    ))
}
