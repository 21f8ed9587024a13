pub mod form;
pub mod person;
