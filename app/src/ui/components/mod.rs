pub mod card;
pub mod form;
pub mod person;
