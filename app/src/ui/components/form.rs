//! Form pieces that meet WCAG 2.1 AA: every input has a label tied to it,
//! errors are announced and linked to their field, hints are described-by.

use domain::AppError;
use domain::{Password, PasswordContext, password_rules_hint};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The value of one field and whether the person has left it yet (errors
/// appear once they have, not while they are still typing the first time).
#[derive(Clone, Copy)]
pub struct FieldState {
    pub value: RwSignal<String>,
    pub touched: RwSignal<bool>,
    /// The person typed here before the page's wasm arrived.
    pub typed_early: bool,
}

impl FieldState {
    /// The field whose input has the id `id`, empty at first. In the browser,
    /// what the person already typed there while the page waited for its
    /// wasm is given back to the field as soon as the island is live (it
    /// counts as left if they have moved on from it): hydration would
    /// otherwise lose it.
    pub fn new(id: &str) -> Self {
        let typed = used_before_hydration(id).filter(|input| !input.value.is_empty());
        let field = FieldState {
            value: RwSignal::new(String::new()),
            touched: RwSignal::new(false),
            typed_early: typed.is_some(),
        };
        if let Some(input) = typed {
            after_hydration(move || {
                field.value.set(input.value.clone());
                field.touched.set(!input.focused);
            });
        }
        field
    }
}

/// A checkbox's state, `default` at first, then in the browser whether the
/// person left the box with id `id` ticked before the page's wasm arrived.
pub fn checkbox(id: &str, default: bool) -> RwSignal<bool> {
    let checked = RwSignal::new(default);
    if let Some(input) = used_before_hydration(id).filter(|input| input.checked != default) {
        after_hydration(move || checked.set(input.checked));
    }
    checked
}

/// A checkbox named and labelled for its `id`, bound to `checked` (made
/// with [`checkbox`]). The server renders it as it starts in the browser, so
/// a plain post without JavaScript sends what the live form would.
#[component]
pub fn Checkbox(
    id: &'static str,
    label: &'static str,
    checked: RwSignal<bool>,
    #[prop(into, optional)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="checkbox">
            <input
                type="checkbox"
                id=id
                name=id
                value="on"
                checked=checked.get_untracked()
                bind:checked=checked
                disabled=move || disabled.get()
            />
            <label for=id>{label}</label>
        </div>
    }
}

/// Runs `change` once the island is live. The island must first hydrate in
/// the state the server rendered: a different state while hydrating (an
/// error shown, a box ticked) would not match the page it takes over.
fn after_hydration(change: impl Fn() + Send + Sync + 'static) {
    Effect::new(move |_| change());
}

/// An input as the person left it before the island came to life.
struct UsedInput {
    value: String,
    checked: bool,
    focused: bool,
}

/// The input with id `id` as the server rendered it and the person may have
/// used it since, read while the island is being built (before hydration
/// writes the island's state into the page). None on the server.
#[cfg(feature = "hydrate")]
fn used_before_hydration(id: &str) -> Option<UsedInput> {
    use leptos::wasm_bindgen::JsCast;
    let element = document().get_element_by_id(id)?;
    let focused = document()
        .active_element()
        .is_some_and(|active| active == element);
    let input: leptos::web_sys::HtmlInputElement = element.dyn_into().ok()?;
    Some(UsedInput {
        value: input.value(),
        checked: input.checked(),
        focused,
    })
}

#[cfg(not(feature = "hydrate"))]
fn used_before_hydration(_id: &str) -> Option<UsedInput> {
    None
}

/// The message for `field`: the browser's own check once the field has been
/// left, otherwise what the server said about the last submission.
pub fn field_error<F>(
    state: FieldState,
    field: &'static str,
    check: F,
    submitted: Signal<Option<AppError>>,
) -> Signal<Option<String>>
where
    F: Fn(&str) -> Option<String> + Send + Sync + 'static,
{
    Signal::derive(move || {
        let client = state
            .touched
            .get()
            .then(|| state.value.with(|v| check(v)))
            .flatten();
        client.or_else(|| submitted.with(|e| e.as_ref().and_then(|e| e.field_message(field))))
    })
}

#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    state: FieldState,
    error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into, optional)] readonly: Signal<bool>,
) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=name>{label}</label>
            {hint.map(|text| view! { <p class="hint" id=hint_id.clone()>{text}</p> })}
            <p class="field-error" id=error_id.clone() aria-live="polite">
                {move || error.get().map(|message| view! { <span class="visually-hidden">"Error: "</span>{message} })}
            </p>
            <input
                id=name
                name=name
                type=input_type
                autocomplete=autocomplete
                readonly=move || readonly.get()
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
                bind:value=state.value
                on:blur=move |_| state.touched.set(true)
            />
        </div>
    }
}

/// The error of a new password, checked against the policy as it is typed
/// (not only when the field is left). `details` gives the person's first
/// name, last name, username and email as they stand, which it must not contain.
pub fn new_password_error(
    state: FieldState,
    submitted: Signal<Option<AppError>>,
    details: impl Fn() -> [String; 4] + Send + Sync + 'static,
) -> Signal<Option<String>> {
    Effect::new(move |_| {
        if !state.value.get().is_empty() {
            state.touched.set(true);
        }
    });
    field_error(
        state,
        "password",
        move |v| {
            let [first_name, last_name, username, email] = details();
            let context = PasswordContext {
                first_name: &first_name,
                last_name: &last_name,
                username: &username,
                email: &email,
            };
            Password::parse(v, &context).err().map(|e| e.message)
        },
        submitted,
    )
}

/// The *Password* field of a form that sets one, with the policy as its hint.
#[component]
pub fn NewPasswordField(state: FieldState, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <TextField
            label="Password"
            name="password"
            state
            error
            input_type="password"
            autocomplete="new-password"
            hint=password_rules_hint()
        />
    }
}

/// A form that posts to server function `S`. Without JavaScript it is a
/// plain form post (the server answers with a redirect). In an island the
/// submit is taken over: `args` builds the call from the island's signals
/// and the answer is shown in place. This deliberately avoids `ActionForm`,
/// whose form-data decoding would add a fifth to the browser bundle.
#[component]
pub fn ServerForm<S>(
    action: ServerAction<S>,
    args: impl Fn() -> S + Send + Sync + 'static,
    children: Children,
) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    view! {
        <form
            method="post"
            action=S::url()
            novalidate=true
            on:submit=move |ev| {
                ev.prevent_default();
                action.dispatch(args());
            }
        >
            {children()}
        </form>
    }
}

/// The form's main button, disabled while its action is on its way.
#[component]
pub fn SubmitButton(label: &'static str, pending: Memo<bool>) -> impl IntoView {
    view! {
        <button type="submit" class="button primary" disabled=move || pending.get()>
            {label}
        </button>
    }
}

/// A field of a server-rendered form (no island): its error comes from the
/// last post, as the server decoded it from the address.
#[component]
pub fn PlainField(
    label: &'static str,
    name: &'static str,
    error: Option<AppError>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let message = error.as_ref().and_then(|e| e.field_message(name));
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described_by = [
        hint.map(|_| hint_id.clone()),
        message.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    view! {
        <div class="field" class:field-invalid=message.is_some()>
            <label for=name>{label}</label>
            {hint.map(|text| view! { <p class="hint" id=hint_id.clone()>{text}</p> })}
            <p class="field-error" id=error_id.clone()>{message.clone()}</p>
            <input
                id=name
                name=name
                type=input_type
                autocomplete=autocomplete
                value=value
                aria-invalid=if message.is_some() { "true" } else { "false" }
                aria-describedby=(!described_by.is_empty()).then_some(described_by)
            />
        </div>
    }
}

/// A summary at the top of a form after a failed submission: what went
/// wrong, each field error linking to its field.
#[component]
pub fn ErrorSummary(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|error| {
            let items = match &error {
                AppError::Validation(fields) => fields
                    .iter()
                    .map(|f| {
                        let href = format!("#{}", f.field);
                        view! { <li><a href=href>{f.message.clone()}</a></li> }.into_any()
                    })
                    .collect::<Vec<_>>(),
                other => vec![view! { <li>{other.to_string()}</li> }.into_any()],
            };
            view! {
                <div class="error-summary" role="alert" tabindex="-1">
                    <h2>"There is a problem"</h2>
                    <ul>{items}</ul>
                </div>
            }
        })
    }
}

/// Marks `<body data-hydrated="true">` once this island is live in the
/// browser, so end-to-end tests (and the curious) can tell. Effects never run
/// on the server.
pub fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The error of an action's last submission, if it failed. Before the first
/// submission in this page it is `initial`: the error a plain form post (no
/// JavaScript) brought back in the URL, read on the server by `posted_error`.
pub fn action_error<I, O>(
    action: ServerAction<I>,
    initial: Option<AppError>,
) -> Signal<Option<AppError>>
where
    I: ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let value = action.value();
    let version = action.version();
    Signal::derive(move || {
        if version.get() == 0 {
            return initial.clone();
        }
        value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
    })
}

/// The error that a plain form post to `S` (without JavaScript) came back
/// with; Leptos carries it in the redirect's query string.
pub fn posted_error<S>() -> Option<AppError>
where
    S: ServerFn<Error = AppError>,
{
    use leptos::server::ServerActionError;
    use leptos::server_fn::error::ServerFnUrlError;
    use_context::<ServerActionError>()
        .filter(|e| e.path() == S::PATH)
        .map(|e| ServerFnUrlError::<AppError>::decode_err(e.err()))
}
