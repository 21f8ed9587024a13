//! The fields that describe a person, shared by first-run setup and *Add a
//! user*: names, email, the username that follows the names while *Create
//! username from name and surname* is ticked, and suggested initials.

use super::form::{Checkbox, FieldState, TextField, checkbox, field_error};
use domain::AppError;
use domain::{Email, FirstName, Initials, LastName, PersonForm, Username};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct PersonFields {
    pub first: FieldState,
    pub last: FieldState,
    pub email: FieldState,
    pub username: FieldState,
    pub initials: FieldState,
    pub generate_username: RwSignal<bool>,
    initials_edited: RwSignal<bool>,
    errors: [Signal<Option<String>>; 5],
}

impl PersonFields {
    /// Fields whose errors are the browser's own checks, or else what the
    /// server said about the `submitted` form.
    pub fn new(submitted: Signal<Option<AppError>>) -> Self {
        let (first, last, email, username, initials) = (
            FieldState::new("first_name"),
            FieldState::new("last_name"),
            FieldState::new("email"),
            FieldState::new("username"),
            FieldState::new("initials"),
        );
        let generate_username = checkbox("generate_username", true);
        // Initials typed before the page came to life are the person's own.
        let initials_edited = RwSignal::new(initials.typed_early);
        // While the box is ticked the username follows the names, as do the
        // suggested initials until the person types their own.
        Effect::new(move |_| {
            if let Some(defaults) = PersonForm::defaults(&first.value.get(), &last.value.get()) {
                if generate_username.get() {
                    username.value.set(defaults.username.into());
                }
                if !initials_edited.get_untracked() {
                    initials.value.set(defaults.initials.into());
                }
            }
        });
        let message = |r: Result<(), domain::FieldError>| r.err().map(|e| e.message);
        let errors = [
            field_error(
                first,
                "first_name",
                move |v| message(FirstName::parse(v).map(drop)),
                submitted,
            ),
            field_error(
                last,
                "last_name",
                move |v| message(LastName::parse(v).map(drop)),
                submitted,
            ),
            field_error(
                email,
                "email",
                move |v| message(Email::parse(v).map(drop)),
                submitted,
            ),
            field_error(
                username,
                "username",
                move |v| message(Username::parse(v).map(drop)),
                submitted,
            ),
            field_error(
                initials,
                "initials",
                move |v| message(Initials::parse(v).map(drop)),
                submitted,
            ),
        ];
        PersonFields {
            first,
            last,
            email,
            username,
            initials,
            generate_username,
            initials_edited,
            errors,
        }
    }

    /// The *Create username from name and surname* box, as a form posts it.
    pub fn generate_username_arg(&self) -> Option<String> {
        self.generate_username
            .get_untracked()
            .then(|| "on".to_owned())
    }
}

/// First name, last name and email.
#[component]
pub fn NameAndEmailFields(fields: PersonFields, email_hint: &'static str) -> impl IntoView {
    let [first_error, last_error, email_error, _, _] = fields.errors;
    view! {
        <TextField label="First name" name="first_name" state=fields.first error=first_error autocomplete="given-name"/>
        <TextField label="Last name" name="last_name" state=fields.last error=last_error autocomplete="family-name"/>
        <TextField
            label="Email"
            name="email"
            state=fields.email
            error=email_error
            input_type="email"
            autocomplete="email"
            hint=email_hint
        />
    }
}

/// The username box (following the names while ticked) and the initials;
/// the children are shown between them (e.g. the availability check).
#[component]
pub fn UsernameAndInitialsFields(
    fields: PersonFields,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let [_, _, _, username_error, initials_error] = fields.errors;
    let generate = fields.generate_username;
    view! {
        <Checkbox id="generate_username" label="Create username from name and surname" checked=generate/>
        <TextField
            label="Username"
            name="username"
            state=fields.username
            error=username_error
            autocomplete="off"
            hint="5 to 30 characters: letters, digits and @ . - _, starting with a letter. Unique across all organisations."
            readonly=Signal::derive(move || generate.get())
        />
        {children.map(|children| children())}
        <div on:input=move |_| fields.initials_edited.set(true)>
            <TextField label="Initials" name="initials" state=fields.initials error=initials_error hint="1 to 5 letters or digits, unique in the organisation."/>
        </div>
    }
}
